import { useEffect, useState } from 'preact/hooks';
import { errorMessage } from './api';
import { currentSession, subscribe, type Session } from './wallet';

export type Load<T> = { state: 'loading' } | { state: 'error'; error: string } | { state: 'ok'; value: T };

/** Runs `f` when `deps` change; the latest result wins. */
export function useLoad<T>(f: () => Promise<T>, deps: unknown[]): [Load<T>, () => void] {
  const [load, setLoad] = useState<Load<T>>({ state: 'loading' });
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let live = true;
    setLoad({ state: 'loading' });
    f().then(
      (value) => live && setLoad({ state: 'ok', value }),
      (e: unknown) => live && setLoad({ state: 'error', error: errorMessage(e) }),
    );
    return () => {
      live = false;
    };
  }, [...deps, tick]);
  return [load, () => setTick((t) => t + 1)];
}

export function useSession(): Session | null {
  const [s, setS] = useState(currentSession());
  useEffect(() => subscribe(() => setS(currentSession())), []);
  return s;
}
