import { describe, expect, it } from 'vitest';
import type { Mismatch } from '../api';
import {
  defaultPeriod,
  humanize,
  mismatchLabel,
  movementLabel,
  periodProblem,
  reasonProblem,
  reconciles,
  signedMoney,
  verdict,
  when,
} from '../operator/model';

const mismatch: Mismatch = {
  kind_of_mismatch: 'unaccounted',
  purchase_id: '0b7c9a52-6f0e-4d5e-9a8b-1c2d3e4f5a6b',
  payment_intent_id: 'pi_1',
  payment_ref: null,
  state: 'failed',
  stripe_cents: 990,
  stripe_refunded_cents: 0,
  chain_cents: 0,
  tx_hashes: [],
  detail: 'charged, neither settled nor refunded',
};

describe('operator console: the reason of a refund or a retry', () => {
  it('takes 3 to 500 characters, trimmed, as the API counts them', () => {
    expect(reasonProblem('abc')).toBeNull();
    expect(reasonProblem('  Stripe support unblocked the charge  ')).toBeNull();
    expect(reasonProblem('x'.repeat(500))).toBeNull();
    // Code points, as Rust counts `char`s: three emoji are three characters (six UTF-16 units).
    expect(reasonProblem('🎬🎬🎬')).toBeNull();
    expect(reasonProblem('é'.repeat(500))).toBeNull();
  });
  it('refuses an empty, short, long or control-character reason', () => {
    expect(reasonProblem('')).toMatch(/Enter the reason/);
    expect(reasonProblem('    ')).toMatch(/Enter the reason/);
    expect(reasonProblem('ab')).toBe('The reason is too short (at least 3 characters).');
    expect(reasonProblem('  ab  ')).toMatch(/too short/);
    expect(reasonProblem('🎬🎬')).toMatch(/too short/);
    expect(reasonProblem('x'.repeat(501))).toMatch(/too long \(at most 500 characters; this one has 501\)/);
    expect(reasonProblem('line one\nline two')).toMatch(/control characters/);
    expect(reasonProblem('tab\there')).toMatch(/control characters/);
    expect(reasonProblem('bell\u0007!')).toMatch(/control characters/);
  });
});

describe('operator console: the reconciliation', () => {
  it('defaults to the first day of the month (UTC) to today', () => {
    expect(defaultPeriod(new Date('2026-12-03T08:00:00Z'))).toEqual({ from: '2026-12-01', to: '2026-12-03' });
    expect(defaultPeriod(new Date('2026-01-01T00:00:00Z'))).toEqual({ from: '2026-01-01', to: '2026-01-01' });
    // 23:30 on 31 March in UTC−2 is already 1 April in UTC.
    expect(defaultPeriod(new Date('2026-03-31T23:30:00-02:00'))).toEqual({ from: '2026-04-01', to: '2026-04-01' });
  });
  it('checks the period', () => {
    expect(periodProblem('2026-12-01', '2026-12-03')).toBeNull();
    expect(periodProblem('2026-12-03', '2026-12-03')).toBeNull();
    expect(periodProblem('', '2026-12-03')).toBe('Enter the first day of the period.');
    expect(periodProblem('2026-02-30', '2026-03-01')).toBe('Enter the first day of the period.');
    expect(periodProblem('2026-12-01', 'tomorrow')).toBe('Enter the last day of the period.');
    expect(periodProblem('2026-12-03', '2026-12-01')).toBe('The last day comes before the first day.');
  });
  it('reconciles only with no difference and no mismatch', () => {
    expect(reconciles({ difference: 0, mismatches: [] })).toBe(true);
    expect(verdict({ difference: 0, mismatches: [] })).toBe('Reconciles to the cent');
    expect(reconciles({ difference: 0, mismatches: [mismatch] })).toBe(false);
    expect(verdict({ difference: 0, mismatches: [mismatch] })).toBe('Does not reconcile: difference €0.00, 1 mismatch');
    expect(verdict({ difference: 990, mismatches: [mismatch, mismatch] })).toBe('Does not reconcile: difference €9.90, 2 mismatches');
    expect(reconciles({ difference: -1, mismatches: [] })).toBe(false);
  });
});

describe('operator console: amounts, times and kinds', () => {
  it('shows signed amounts in euros', () => {
    expect(signedMoney(500_000)).toBe('+€5,000.00');
    expect(signedMoney(-750)).toBe('−€7.50');
    expect(signedMoney(0)).toBe('€0.00');
  });
  it('shows instants in UTC', () => {
    expect(when('2026-12-03T08:51:27.123Z')).toBe('2026-12-03 08:51 UTC');
    expect(when('2026-12-03T09:51:27+01:00')).toBe('2026-12-03 08:51 UTC');
    expect(when(null)).toBe('—');
    expect(when('not a time')).toBe('not a time');
  });
  it('names kinds', () => {
    expect(movementLabel('card_settlement')).toBe('Card settlement');
    expect(movementLabel('clawback')).toBe('Chargeback: pending sale returned');
    expect(movementLabel('deposit')).toBe('Deposit');
    expect(movementLabel('something_new')).toBe('Something new');
    expect(mismatchLabel('unknown_payment_ref')).toBe('Unknown payment reference');
    expect(mismatchLabel('future_kind')).toBe('Future kind');
    expect(humanize('settlement_deadline_exceeded')).toBe('Settlement deadline exceeded');
  });
});
