// A minimal history router: the API answers index.html for every page path.
import { useEffect, useState } from 'preact/hooks';

const listeners = new Set<() => void>();
let navigations = 0;

export function navigate(to: string) {
  history.pushState(null, '', to);
  navigations++;
  listeners.forEach((f) => f());
  window.scrollTo(0, 0);
}

/** The current path, and a key that changes at every navigation (even to the same path). */
export function usePath(): { path: string; key: string } {
  const here = () => ({ path: location.pathname, key: `${navigations}:${location.pathname}${location.search}` });
  const [path, setPath] = useState(here);
  useEffect(() => {
    const f = () => setPath(here());
    listeners.add(f);
    window.addEventListener('popstate', f);
    return () => {
      listeners.delete(f);
      window.removeEventListener('popstate', f);
    };
  }, []);
  return path;
}

/** Same-origin link clicks become history navigations. */
export function onLinkClick(e: MouseEvent) {
  if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
  const a = (e.target as Element | null)?.closest('a');
  if (!a || a.target || a.origin !== location.origin || a.hasAttribute('download')) return;
  e.preventDefault();
  navigate(a.pathname + a.search);
}
