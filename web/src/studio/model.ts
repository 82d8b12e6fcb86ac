// The studio dashboard's pure parts: form checks, the statement's period and chart buckets, and
// what this browser remembers (studio ids, declared editions: nothing secret) in localStorage.
import type { Sale } from '../api';

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
