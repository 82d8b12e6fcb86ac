// The studio dashboard's pure parts: form checks, the statement's period and chart buckets, what
// a studio application's state reads as, and what this browser remembers (studio ids, declared editions: nothing secret) in localStorage.
import type { Sale, StudioApplication } from '../api';

export const QUALITIES = ['sd', 'hd', '4k'] as const;
export const MAX_NAME = 200;

/** "12.50" or "12,50" euros → 1250 cents; a message when it is not a price. */
export function parsePrice(input: string): { cents: number } | { error: string } {
  const t = input.trim().replace(',', '.');
  if (!t) return { error: 'Enter a price.' };
  if (!/^\d{1,7}(\.\d{1,2})?$/.test(t)) return { error: 'Enter a price in euros, like 9.90.' };
  const [whole = '0', frac = ''] = t.split('.');
  const cents = Number(whole) * 100 + Number(frac.padEnd(2, '0'));
  if (cents < 1) return { error: 'The price must be at least €0.01.' };
  if (cents > 100_000_000) return { error: 'The price must be at most €1,000,000.' };
  return { cents };
}

/** The largest resale floor of an edition priced `priceCents`: half its price (the contract's bound). */
export function maxResaleFloor(priceCents: number): number {
  return Math.floor(priceCents / 2);
}

/** A resale floor typed by a studio, in cents, or what is wrong with it ("0" removes the floor). */
export function parseResaleFloor(input: string, priceCents: number): { cents: number } | { error: string } {
  const t = input.trim();
  if (/^0+([.,]0{1,2})?$/.test(t)) return { cents: 0 };
  const r = parsePrice(t);
  if ('error' in r) return r;
  const max = maxResaleFloor(priceCents);
  if (r.cents > max) return { error: `At most half the edition's price: €${(max / 100).toFixed(2)}.` };
  return r;
}

export function nameProblem(what: string, v: string): string | null {
  const t = v.trim();
  if (!t) return `Enter the ${what}.`;
  if ([...t].length > MAX_NAME) return `The ${what} is too long (at most ${MAX_NAME} characters).`;
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f-\u009f]/.test(t)) return `The ${what} cannot contain control characters.`;
  return null;
}

export function yearProblem(v: string): string | null {
  if (!/^\d{4}$/.test(v.trim())) return 'Enter the release year, like 1902.';
  const y = Number(v);
  return y < 1870 || y > 2200 ? 'The year must be between 1870 and 2200.' : null;
}

export function addressProblem(v: string): string | null {
  return /^0x[0-9a-fA-F]{40}$/.test(v.trim()) ? null : 'Enter an address: 0x followed by 40 hexadecimal characters.';
}

/** `YYYY-MM-DD` of a date in UTC. */
export function day(d: Date): string {
  return d.toISOString().slice(0, 10);
}

/** The API period of the days `from`..`to` (inclusive, UTC): from 00:00 to the next day's 00:00. */
export function periodOf(from: string, to: string): { from: string; to: string } | { error: string } {
  const re = /^\d{4}-\d{2}-\d{2}$/;
  if (!re.test(from) || Number.isNaN(Date.parse(from))) return { error: 'Enter the first day of the period.' };
  if (!re.test(to) || Number.isNaN(Date.parse(to))) return { error: 'Enter the last day of the period.' };
  if (to < from) return { error: 'The last day comes before the first day.' };
  const end = new Date(Date.parse(to) + 86_400_000);
  return { from: `${from}T00:00:00Z`, to: `${day(end)}T00:00:00Z` };
}

export interface Bucket {
  label: string;
  start: string;
  sales: number;
  gross: number;
  studio: number;
}

/**
 * Sales per day of the period (per month when it spans more than 62 days), every bucket
 * present (empty ones too) so the chart's time axis is even.
 */
export function buckets(lines: Sale[], from: string, to: string): Bucket[] {
  const start = Date.parse(from);
  const end = Date.parse(to);
  const monthly = end - start > 62 * 86_400_000;
  const key = (t: number) => (monthly ? new Date(t).toISOString().slice(0, 7) : day(new Date(t)));
  const out = new Map<string, Bucket>();
  for (let t = start; t < end; ) {
    const k = key(t);
    out.set(k, { label: k, start: k, sales: 0, gross: 0, studio: 0 });
    const d = new Date(t);
    t = monthly ? Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1) : t + 86_400_000;
  }
  for (const l of lines) {
    if (!l.block_timestamp) continue;
    const b = out.get(key(Date.parse(l.block_timestamp)));
    if (!b) continue;
    b.sales += 1;
    b.gross += l.price_cents;
    b.studio += l.studio_cents;
  }
  return [...out.values()];
}

// --- Studio applications (a wallet that is not a platform admin applies; an admin decides).

/** How often the dashboard checks a waiting application again. */
export const APPLICATION_POLL_MS = 5000;

/** Still waiting for a platform admin (or for the approved studio's registration on chain). */
export function applicationOpen(a: Pick<StudioApplication, 'state'>): boolean {
  return a.state === 'pending' || a.state === 'registering';
}

/** An instant as "2026-05-03 14:02 UTC" (what the API sent when it is not one). */
export function utcTime(iso: string): string {
  const t = Date.parse(iso);
  return Number.isNaN(t) ? iso : `${new Date(t).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

/** An application's state in a word or two (its badge). */
export function applicationBadge(state: StudioApplication['state']): string {
  return { pending: 'Waiting for approval', registering: 'Approved, registering', approved: 'Approved', rejected: 'Rejected' }[state];
}

/** What an application says to its applicant: a headline, and when it was sent / decided. */
export function applicationText(a: StudioApplication): { headline: string; detail: string } {
  const sent = `Application #${a.application_id}, sent ${utcTime(a.applied_at)}`;
  const decided = a.decided_at ? `; decided ${utcTime(a.decided_at)}` : '';
  switch (a.state) {
    case 'pending':
      return { headline: `Application sent — a platform admin must approve ${a.name} before you can add films.`, detail: `${sent}.` };
    case 'registering':
      return { headline: `${a.name} is approved: the studio is being registered on chain…`, detail: `${sent}.` };
    case 'approved':
      return {
        headline: a.studio_id === null ? `${a.name} is approved.` : `${a.name} is approved: it is studio #${a.studio_id}.`,
        detail: `${sent}${decided}.`,
      };
    case 'rejected':
      return { headline: `${a.name} was not approved by the platform.`, detail: `${sent}${decided}.` };
  }
}

/**
 * The applications a wallet sees on its dashboard: its own (a platform admin is answered
 * everyone's), those waiting first, then the rejected ones (with their reason); latest first.
 * The approved ones are studios, listed as such.
 */
export function ownApplications(list: StudioApplication[], address: string): StudioApplication[] {
  const me = address.toLowerCase();
  const mine = list.filter((a) => a.admin_address.toLowerCase() === me && a.state !== 'approved');
  const latest = (x: StudioApplication, y: StudioApplication) => Date.parse(y.applied_at) - Date.parse(x.applied_at) || y.application_id - x.application_id;
  return [...mine.filter(applicationOpen).sort(latest), ...mine.filter((a) => !applicationOpen(a)).sort(latest)];
}

/** A wallet's approved applications, as the studios they registered. */
export function approvedStudios(list: StudioApplication[], address: string): KnownStudio[] {
  const me = address.toLowerCase();
  return list.flatMap((a) =>
    a.admin_address.toLowerCase() === me && a.state === 'approved' && a.studio_id !== null ? [{ id: a.studio_id, name: a.name }] : [],
  );
}

/** The first application seen waiting (`watched`) that is now approved with its studio, if any. */
export function justApproved(list: StudioApplication[], watched: ReadonlySet<number>): (StudioApplication & { studio_id: number }) | null {
  for (const a of list) if (a.state === 'approved' && a.studio_id !== null && watched.has(a.application_id)) return { ...a, studio_id: a.studio_id };
  return null;
}

// --- What this browser remembers (not secret: ids and the prices a studio declared).
export interface KnownStudio {
  id: number;
  name: string;
}
export interface KnownFilm {
  film_id: number;
  title: string;
  year: number;
  declared: { quality: string; price_cents: number }[];
}

function read<T>(key: string, fallback: T): T {
  try {
    const v = localStorage.getItem(key);
    return v ? (JSON.parse(v) as T) : fallback;
  } catch {
    return fallback;
  }
}
function write(key: string, v: unknown) {
  try {
    localStorage.setItem(key, JSON.stringify(v));
  } catch {
    /* storage full or disabled: the dashboard still works for this visit */
  }
}

export function knownStudios(admin: string): KnownStudio[] {
  return read<KnownStudio[]>(`tangible.studios.${admin.toLowerCase()}`, []);
}
export function rememberStudio(admin: string, s: KnownStudio) {
  const list = knownStudios(admin).filter((x) => x.id !== s.id);
  write(`tangible.studios.${admin.toLowerCase()}`, [s, ...list]);
}
export function knownFilms(studioId: number): KnownFilm[] {
  return read<KnownFilm[]>(`tangible.studio-films.${studioId}`, []);
}
export function rememberFilm(studioId: number, f: KnownFilm) {
  const list = knownFilms(studioId).filter((x) => x.film_id !== f.film_id);
  write(`tangible.studio-films.${studioId}`, [f, ...list]);
}
