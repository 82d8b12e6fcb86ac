import { describe, expect, it } from 'vitest';
import type { Sale } from '../api';
import { buckets, maxResaleFloor, nameProblem, parsePrice, parseResaleFloor, periodOf, yearProblem } from '../studio/model';

const sale = (t: string, price: number, studio: number): Sale => ({
  tx_hash: '0x' + t,
  log_index: 0,
  block_number: 1,
  block_timestamp: t,
  kind: 'primary',
  licence_id: '1',
  film_id: 1,
  price_cents: price,
  seller_cents: 0,
  studio_cents: studio,
  platform_cents: price - studio,
  payment_ref: null,
});

describe('studio forms', () => {
  it('reads prices in euros', () => {
    expect(parsePrice('7.5')).toEqual({ cents: 750 });
    expect(parsePrice('12,05')).toEqual({ cents: 1205 });
    expect(parsePrice('3')).toEqual({ cents: 300 });
    expect(parsePrice('')).toEqual({ error: 'Enter a price.' });
    expect(parsePrice('0')).toHaveProperty('error');
    expect(parsePrice('1.234')).toHaveProperty('error');
    expect(parsePrice('-1')).toHaveProperty('error');
    expect(parsePrice('1000000.01')).toHaveProperty('error');
  });
  it('bounds a resale floor by half the price, as the contract does', () => {
    expect(maxResaleFloor(1999)).toBe(999);
    expect(parseResaleFloor('9.99', 1999)).toEqual({ cents: 999 });
    expect(parseResaleFloor('10', 1999)).toEqual({ error: "At most half the edition's price: €9.99." });
    expect(parseResaleFloor('0', 1999)).toEqual({ cents: 0 });
    expect(parseResaleFloor('0.00', 1999)).toEqual({ cents: 0 });
    expect(parseResaleFloor('', 1999)).toHaveProperty('error');
    expect(parseResaleFloor('five', 1999)).toHaveProperty('error');
  });
  it('checks titles and years', () => {
    expect(nameProblem('title', '  ')).toBe('Enter the title.');
    expect(nameProblem('title', 'x'.repeat(201))).toMatch(/too long/);
    expect(nameProblem('title', 'a\u0007b')).toMatch(/control/);
    expect(nameProblem('title', '<b>ok</b>')).toBeNull();
    expect(yearProblem('1902')).toBeNull();
    expect(yearProblem('1869')).toMatch(/between/);
    expect(yearProblem('19o2')).toMatch(/like 1902/);
  });
  it('turns days into an API period (last day included)', () => {
    expect(periodOf('2026-11-01', '2026-11-30')).toEqual({ from: '2026-11-01T00:00:00Z', to: '2026-12-01T00:00:00Z' });
    expect(periodOf('2026-12-31', '2026-12-31')).toEqual({ from: '2026-12-31T00:00:00Z', to: '2027-01-01T00:00:00Z' });
    expect(periodOf('2026-11-02', '2026-11-01')).toHaveProperty('error');
    expect(periodOf('', '2026-11-01')).toHaveProperty('error');
  });
});

describe('statement chart buckets', () => {
  it('sums sales per day, every day present', () => {
    const b = buckets(
      [sale('2026-11-02T10:00:00Z', 750, 675), sale('2026-11-02T23:59:59Z', 100, 90), sale('2026-11-04T00:00:00Z', 300, 270)],
      '2026-11-01T00:00:00Z',
      '2026-11-05T00:00:00Z',
    );
    expect(b.map((x) => [x.label, x.sales, x.gross, x.studio])).toEqual([
      ['2026-11-01', 0, 0, 0],
      ['2026-11-02', 2, 850, 765],
      ['2026-11-03', 0, 0, 0],
      ['2026-11-04', 1, 300, 270],
    ]);
  });
  it('sums per month over long periods, and leaves out sales outside the period', () => {
    const b = buckets([sale('2026-03-31T23:00:00Z', 500, 450), sale('2027-01-01T00:00:00Z', 1, 1)], '2026-01-01T00:00:00Z', '2027-01-01T00:00:00Z');
    expect(b).toHaveLength(12);
    expect(b[2]).toMatchObject({ label: '2026-03', sales: 1, gross: 500, studio: 450 });
    expect(b.reduce((a, x) => a + x.sales, 0)).toBe(1);
  });
});
