// The film page's resale market, per edition: the open offers (cheapest first) and the price
// history of past resales. Pure functions of what the API lists; the prices shown are the
// mirror's, the price charged is always the one the API reads from the chain.
import type { Edition, Offer, Sale } from './api';

/** One resale: when it settled (block time; null while the mirror has none) and its price. */
export interface PricePoint {
  at: string | null;
  price_cents: number;
  offer_id: string | null;
  tx_hash: string;
}

export interface EditionMarket {
  quality: string;
  /** The edition's price new from the studio; null when it is not sold new (no such edition,
   *  withdrawn, or its film not served). */
  newPrice: number | null;
  /** Open offers, cheapest first (then the oldest offer first). */
  offers: Offer[];
  /** Resales, oldest first. */
  history: PricePoint[];
}

/** An edition sold new: on sale on chain and its film served by Tangible. */
export function soldNew(e: Edition): boolean {
  return e.active && e.served;
}

/** Whether Tangible serves the film of the edition in `quality` of a film with `editions` (its licences can be sold). */
export function servedQuality(editions: Edition[], quality: string): boolean {
  return editions.some((e) => e.quality === quality && e.served);
}

export interface PriceSummary {
  count: number;
  last: number;
  low: number;
  high: number;
}

/** Decimal ids (offers: up to 78 digits) in numeric order. */
function compareIds(a: string, b: string): number {
  return a.length !== b.length ? a.length - b.length : a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Groups a film's offers and resales per edition, in the film's edition order (then any other
 * quality an offer names). A sale does not name its quality: a resale's edition is its offer's
 * (`filled` lists the offers resales filled). Resales whose offer is not listed are counted in
 * `unplaced`, not guessed.
 */
export function editionMarkets(
  editions: Edition[],
  active: Offer[],
  filled: Offer[],
  resales: Sale[],
): { markets: EditionMarket[]; unplaced: number } {
  const qualityOf = new Map<string, string>();
  for (const o of [...filled, ...active]) qualityOf.set(o.offer_id, o.quality);
  const qualities = [...new Set([...editions.map((e) => e.quality), ...active.map((o) => o.quality)])];
  const markets = new Map<string, EditionMarket>(
    qualities.map((q) => [
      q,
      { quality: q, newPrice: editions.find((e) => e.quality === q && soldNew(e))?.price_cents ?? null, offers: [], history: [] },
    ]),
  );
  for (const o of active) if (o.status === 'active') markets.get(o.quality)?.offers.push(o);
  let unplaced = 0;
  for (const s of resales) {
    if (s.kind !== 'resale') continue;
    const q = s.offer_id ? qualityOf.get(s.offer_id) : undefined;
    const m = q === undefined ? undefined : (markets.get(q) ?? addMarket(markets, q));
    if (!m) {
      unplaced++;
      continue;
    }
    m.history.push({ at: s.block_timestamp, price_cents: s.price_cents, offer_id: s.offer_id ?? null, tx_hash: s.tx_hash });
  }
  for (const m of markets.values()) {
    m.offers.sort((a, b) => a.price_cents - b.price_cents || compareIds(a.offer_id, b.offer_id));
    // The API lists sales in event order; a point without a time keeps its place.
    m.history = stableByTime(m.history);
  }
  return { markets: [...markets.values()], unplaced };
}

function addMarket(markets: Map<string, EditionMarket>, quality: string): EditionMarket {
  const m: EditionMarket = { quality, newPrice: null, offers: [], history: [] };
  markets.set(quality, m);
  return m;
}

/** Oldest first by time; points without a time stay after their predecessor in event order. */
function stableByTime(points: PricePoint[]): PricePoint[] {
  const timed = points.every((p) => p.at !== null && !Number.isNaN(Date.parse(p.at)));
  if (!timed) return points;
  return points
    .map((p, i) => ({ p, i }))
    .sort((a, b) => Date.parse(a.p.at ?? '') - Date.parse(b.p.at ?? '') || a.i - b.i)
    .map(({ p }) => p);
}

/** Count, last, lowest and highest price of a history; null when empty. */
export function priceSummary(history: PricePoint[]): PriceSummary | null {
  const last = history[history.length - 1];
  if (!last) return null;
  const prices = history.map((p) => p.price_cents);
  return { count: prices.length, last: last.price_cents, low: Math.min(...prices), high: Math.max(...prices) };
}

/** The points of a history that have a time, as [ms, cents], for the chart. */
export function timedPoints(history: PricePoint[]): [number, number][] {
  return history.flatMap((p) => {
    const t = p.at === null ? NaN : Date.parse(p.at);
    return Number.isNaN(t) ? [] : [[t, p.price_cents] as [number, number]];
  });
}

/** A round top for a price axis at or above `cents`: 1, 2 or 5 × a power of ten, in whole euros. */
export function niceTop(cents: number): number {
  const euros = Math.max(1, Math.ceil(cents / 100));
  const p = 10 ** Math.floor(Math.log10(euros));
  const step = [1, 2, 5, 10].find((k) => k * p >= euros) ?? 10;
  return step * p * 100;
}

/**
 * Maps `[ms, cents]` points into a `w`×`h` box (y grows downwards, 0 € at the bottom, the top at
 * `top` cents): times spread over the width; a single time (or all the same) in the middle.
 */
export function layout(points: [number, number][], w: number, h: number, top: number): [number, number][] {
  const ts = points.map(([t]) => t);
  const t0 = Math.min(...ts);
  const t1 = Math.max(...ts);
  const max = Math.max(1, top);
  return points.map(([t, c]) => [t1 > t0 ? ((t - t0) / (t1 - t0)) * w : w / 2, h - (Math.min(c, max) / max) * h]);
}

/** Whether the seller of `o` is `address` (case-insensitive: the mirror stores lower case). */
export function isOwnOffer(o: Offer, address: string | null | undefined): boolean {
  return !!address && o.seller_address.toLowerCase() === address.toLowerCase();
}

/** The smallest resale price, cents (the contract's `MIN_RESALE_PRICE_CENTS`). */
export const MIN_RESALE_CENTS = 20;

/**
 * A resale's split, cents, as the contract computes it (`SplitLib.resale`): the studio 15 % and
 * the platform 5 %, each rounded down, and the seller the rest.
 */
export function resaleSplit(priceCents: number): { seller: number; studio: number; platform: number } {
  const studio = Math.floor((priceCents * 1500) / 10000);
  const platform = Math.floor((priceCents * 500) / 10000);
  return { seller: priceCents - studio - platform, studio, platform };
}
