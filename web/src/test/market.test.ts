import { describe, expect, it } from 'vitest';
import type { Edition, Offer, Sale } from '../api';
import { editionMarkets, isOwnOffer, layout, niceTop, priceSummary, timedPoints, type PricePoint } from '../market';

const edition = (quality: string, price_cents: number): Edition => ({
  edition_id: `1-${quality}`,
  quality,
  price_cents,
  active: true,
  master_hash: '0x00',
  resale_floor_cents: 0,
  served: true,
});
const offer = (offer_id: string, quality: string, price_cents: number, status = 'active'): Offer => ({
  offer_id,
  licence_id: '9' + offer_id,
  film_id: 1,
  quality,
  seller_address: '0xabc0000000000000000000000000000000000001',
  price_cents,
  status,
  buyer_address: null,
  listed_block: 1,
  listed_tx: '0x01',
  below_floor: false,
});
const resale = (offer_id: string | null, price_cents: number, at: string | null, kind = 'resale'): Sale => ({
  tx_hash: `0x${offer_id ?? 'x'}${price_cents}`,
  log_index: 0,
  block_number: 1,
  block_timestamp: at,
  kind,
  licence_id: '1',
  film_id: 1,
  price_cents,
  seller_cents: 0,
  studio_cents: 0,
  platform_cents: 0,
  payment_ref: null,
  offer_id,
});

describe('the resale market per edition', () => {
  const editions = [edition('hd', 900), edition('4k', 1300)];

  it('groups open offers per edition, cheapest first, in the film’s edition order', () => {
    const { markets } = editionMarkets(
      editions,
      [offer('12', 'hd', 800), offer('10', 'hd', 750), offer('3', 'hd', 800), offer('4', '4k', 1200)],
      [],
      [],
    );
    expect(markets.map((m) => m.quality)).toEqual(['hd', '4k']);
    expect(markets[0]?.offers.map((o) => o.offer_id)).toEqual(['10', '3', '12']);
    expect(markets[0]?.newPrice).toBe(900);
    expect(markets[1]?.offers.map((o) => o.offer_id)).toEqual(['4']);
  });

  it('gives a price new only for an edition sold new (active, its film served)', () => {
    const withdrawn = { ...edition('sd', 400), active: false };
    const unserved = { ...edition('hd', 900), served: false };
    const { markets } = editionMarkets([withdrawn, unserved, edition('4k', 1300)], [], [], []);
    expect(markets.map((m) => [m.quality, m.newPrice])).toEqual([
      ['sd', null],
      ['hd', null],
      ['4k', 1300],
    ]);
  });

  it('places each resale in the edition of the offer it filled, oldest first', () => {
    const filled = [offer('1', 'hd', 900, 'filled'), offer('2', '4k', 1100, 'filled'), offer('5', 'hd', 700, 'filled')];
    const sales = [
      resale('5', 700, '2026-12-02T10:00:00Z'),
      resale('1', 900, '2026-12-01T10:00:00Z'),
      resale('2', 1100, '2026-12-01T11:00:00Z'),
      resale('99', 500, '2026-12-01T12:00:00Z'), // its offer is not listed
      resale(null, 900, '2026-12-01T12:00:00Z', 'primary'), // not a resale
    ];
    const { markets, unplaced } = editionMarkets(editions, [], filled, sales);
    expect(markets[0]?.history.map((p) => p.price_cents)).toEqual([900, 700]);
    expect(markets[1]?.history.map((p) => [p.price_cents, p.at])).toEqual([[1100, '2026-12-01T11:00:00Z']]);
    expect(unplaced).toBe(1);
  });

  it('keeps the event order when a sale has no time yet, and lists an edition only an offer names', () => {
    const filled = [offer('1', 'hd', 900, 'filled'), offer('2', 'hd', 800, 'filled'), offer('3', 'sd', 300, 'filled')];
    const { markets } = editionMarkets(
      editions,
      [offer('8', 'sd', 400)],
      filled,
      [resale('2', 800, '2026-12-02T10:00:00Z'), resale('1', 900, null), resale('3', 300, null)],
    );
    expect(markets.map((m) => m.quality)).toEqual(['hd', '4k', 'sd']);
    expect(markets[0]?.history.map((p) => p.price_cents)).toEqual([800, 900]);
    expect(markets[2]).toMatchObject({ newPrice: null, offers: [{ offer_id: '8' }], history: [{ price_cents: 300 }] });
  });

  it('orders 78-digit offer ids as numbers', () => {
    const big = '1'.repeat(78);
    const { markets } = editionMarkets(editions, [offer(big, 'hd', 800), offer('2', 'hd', 800)], [], []);
    expect(markets[0]?.offers.map((o) => o.offer_id)).toEqual(['2', big]);
  });
});

describe('price history helpers', () => {
  const p = (at: string | null, price_cents: number): PricePoint => ({ at, price_cents, offer_id: null, tx_hash: '0x' });

  it('summarises a history', () => {
    expect(priceSummary([])).toBeNull();
    expect(priceSummary([p('2026-12-01T00:00:00Z', 900), p('2026-12-02T00:00:00Z', 700), p(null, 800)])).toEqual({
      count: 3,
      last: 800,
      low: 700,
      high: 900,
    });
  });

  it('charts only the points that have a time', () => {
    expect(timedPoints([p('2026-12-01T00:00:00Z', 900), p(null, 800), p('not a date', 1)])).toEqual([
      [Date.parse('2026-12-01T00:00:00Z'), 900],
    ]);
  });

  it('rounds the axis top up to 1, 2 or 5 × a power of ten euros', () => {
    expect(niceTop(0)).toBe(100);
    expect(niceTop(750)).toBe(1000);
    expect(niceTop(1000)).toBe(1000);
    expect(niceTop(1300)).toBe(2000);
    expect(niceTop(4200)).toBe(5000);
    expect(niceTop(123_456)).toBe(200_000);
  });

  it('lays points out over the box, a single time in the middle', () => {
    expect(layout([[0, 500], [10, 1000], [5, 0]], 100, 50, 1000)).toEqual([
      [0, 25],
      [100, 0],
      [50, 50],
    ]);
    expect(layout([[7, 250]], 100, 40, 1000)).toEqual([[50, 30]]);
  });

  it('recognises the viewer’s own offer whatever the address case', () => {
    const o = offer('1', 'hd', 800);
    expect(isOwnOffer(o, '0xABC0000000000000000000000000000000000001')).toBe(true);
    expect(isOwnOffer(o, '0xabc0000000000000000000000000000000000002')).toBe(false);
    expect(isOwnOffer(o, null)).toBe(false);
  });
});
