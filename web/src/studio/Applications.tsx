// The signed-in wallet's studio applications in the studio dashboard: read, and read again every
// 5 s while one waits (its approval opens the new studio), and their list with "Check again".
import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, api, short, type StudioApplication } from '../api';
import { navigate } from '../router';
import { ErrorBox, Loading } from '../ui';
import {
  APPLICATION_POLL_MS,
  applicationBadge,
  applicationOpen,
  applicationText,
  approvedStudios,
  justApproved,
  ownApplications,
  utcTime,
  knownStudios,
  rememberStudio,
} from './model';
import { studioError, type Signed } from './forms';

/** The signed-in wallet's studio applications, checked again every 5 s while one waits. */
interface Applications {
  /** Its own, waiting ones first (`null` until the first answer). */
  list: StudioApplication[] | null;
  /** The last check's failure ('' when it answered). */
  error: string;
  checking: boolean;
  checkedAt: Date | null;
  /** Checks now (and again every 5 s while one waits). */
  checkNow: () => void;
  /** An application just sent (202): shown at once, checked in 5 s. */
  add: (a: StudioApplication) => void;
}

/**
 * Reads the wallet's applications; while one waits, reads them again every 5 s. When one seen
 * waiting is approved, its studio is remembered and opened, as a studio registered at once is.
 * Approved applications found otherwise (approved while away) join "Your studios".
 */
export function useApplications(s: Signed): Applications {
  const token = s.login.token;
  const address = s.address;
  const [list, setList] = useState<StudioApplication[] | null>(null);
  const [error, setError] = useState('');
  const [checking, setChecking] = useState(false);
  const [checkedAt, setCheckedAt] = useState<Date | null>(null);
  const [kick, setKick] = useState({ n: 0, delay: 0 });
  /** Applications seen waiting on this page: their approval opens the studio. */
  const watched = useRef(new Set<number>());
  const waiting = useRef(false);

  useEffect(() => {
    let live = true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const check = async () => {
      setChecking(true);
      let again = false;
      try {
        const all = await api.studioApplications(token);
        if (!live) return;
        for (const k of approvedStudios(all, address)) if (!knownStudios(address).some((x) => x.id === k.id)) rememberStudio(address, k);
        const done = justApproved(all, watched.current);
        if (done) {
          rememberStudio(address, { id: done.studio_id, name: done.name });
          navigate(`/studio/${done.studio_id}`);
          return;
        }
        const mine = ownApplications(all, address);
        for (const a of mine) if (applicationOpen(a)) watched.current.add(a.application_id);
        waiting.current = again = mine.some(applicationOpen);
        setList(mine);
        setError('');
        setCheckedAt(new Date());
      } catch (e) {
        if (!live) return;
        setError(studioError(e));
        // A network hiccup while one waits: try again; an expired sign-in: stop.
        again = waiting.current && !(e instanceof ApiError && e.status === 401);
      } finally {
        if (live) {
          setChecking(false);
          if (again) timer = setTimeout(() => void check(), APPLICATION_POLL_MS);
        }
      }
    };
    timer = setTimeout(() => void check(), kick.delay);
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [token, address, kick]);

  return {
    list,
    error,
    checking,
    checkedAt,
    checkNow: () => setKick((k) => ({ n: k.n + 1, delay: 0 })),
    add: (a) => {
      watched.current.add(a.application_id);
      waiting.current = true;
      setList((l) => ownApplications([a, ...(l ?? []).filter((x) => x.application_id !== a.application_id)], address));
      setError('');
      setKick((k) => ({ n: k.n + 1, delay: APPLICATION_POLL_MS }));
    },
  };
}

/** The wallet's waiting and rejected applications, with "Check again" while one waits. */
export function ApplicationList({ apps, focus }: { apps: Applications; focus: number | null }) {
  useEffect(() => {
    if (focus !== null) document.getElementById(`application-${focus}`)?.focus();
  }, [focus]);
  if (apps.list === null)
    return apps.error ? (
      <ErrorBox retry={apps.checkNow}>Could not load your studio applications: {apps.error}</ErrorBox>
    ) : (
      <Loading what="your studio applications" />
    );
  if (apps.list.length === 0) return null;
  const open = apps.list.some(applicationOpen);
  return (
    <section aria-labelledby="studio-apps" data-testid="studio-applications">
      <h2 id="studio-apps">Your studio applications</h2>
      <ul class="studios applications" aria-live="polite">
        {apps.list.map((a) => {
          const t = applicationText(a);
          return (
            <li
              key={a.application_id}
              id={`application-${a.application_id}`}
              tabIndex={-1}
              class={`card application ${a.state}`}
              data-testid={`studio-application-${a.application_id}`}
              data-state={a.state}
            >
              <p>
                <span class={a.state === 'rejected' ? 'badge danger' : 'badge'}>{applicationBadge(a.state)}</span>{' '}
                <strong data-testid="application-headline">{t.headline}</strong>
              </p>
              <p class="muted small">
                Application #{a.application_id}, sent <time dateTime={a.applied_at}>{utcTime(a.applied_at)}</time>
                {a.decided_at && (
                  <>
                    ; decided <time dateTime={a.decided_at}>{utcTime(a.decided_at)}</time>
                  </>
                )}
                . Royalties to <code title={a.royalty_address}>{short(a.royalty_address)}</code>.
              </p>
              {a.state === 'rejected' && (
                <p data-testid="application-reason">
                  The admin's reason: {a.reason ? <q>{a.reason}</q> : <span class="muted">none given</span>}
                </p>
              )}
            </li>
          );
        })}
      </ul>
      {apps.error && (
        <p class="field-error" role="alert">
          Could not check again: {apps.error}
        </p>
      )}
      {open && (
        <p class="row">
          <button type="button" class="secondary" disabled={apps.checking} onClick={apps.checkNow} data-testid="check-application">
            {apps.checking ? 'Checking…' : 'Check again'}
          </button>
          <span class="muted small">
            {apps.checkedAt && `Checked at ${apps.checkedAt.toLocaleTimeString()}; `}checked again every {APPLICATION_POLL_MS / 1000} s while it waits.
          </span>
        </p>
      )}
    </section>
  );
}
