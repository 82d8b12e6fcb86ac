// The operator console's pure parts: the reason an action needs, the report's period, and how
// amounts, times and kinds are shown. The API's types are in ../api-types.ts (re-exported by ../api.ts).
import { money, type FloatMovementKind, type MismatchKind, type ReconciliationReport } from '../api';

export const MIN_REASON = 3;
export const MAX_REASON = 500;

/**
 * What is wrong with an action's reason, or `null`: the API's own rule (trimmed, 3–500
 * characters — code points, as Rust counts `char`s — and no control character).
 */
export function reasonProblem(reason: string): string | null {
  const t = reason.trim();
  const n = [...t].length;
  if (n === 0) return 'Enter the reason (it is kept with the action).';
  if (n < MIN_REASON) return `The reason is too short (at least ${MIN_REASON} characters).`;
  if (n > MAX_REASON) return `The reason is too long (at most ${MAX_REASON} characters; this one has ${n}).`;
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f-\u009f]/.test(t)) return 'The reason cannot contain control characters (line breaks, tabs).';
  return null;
}

/** `YYYY-MM-DD` of a date in UTC. */
export function utcDay(d: Date): string {
  return d.toISOString().slice(0, 10);
}

/** The report's default period: the first day of the current month (UTC) to today. */
export function defaultPeriod(now: Date): { from: string; to: string } {
  const today = utcDay(now);
  return { from: `${today.slice(0, 8)}01`, to: today };
}

/** What is wrong with a period of UTC days (`to` included), or `null`. */
export function periodProblem(from: string, to: string): string | null {
  const ok = (d: string) => /^\d{4}-\d{2}-\d{2}$/.test(d) && !Number.isNaN(Date.parse(d)) && utcDay(new Date(Date.parse(d))) === d;
  if (!ok(from)) return 'Enter the first day of the period.';
  if (!ok(to)) return 'Enter the last day of the period.';
  if (to < from) return 'The last day comes before the first day.';
  return null;
}

/** Whether a report balances: no difference and no mismatch. */
export function reconciles(r: Pick<ReconciliationReport, 'difference' | 'mismatches'>): boolean {
  return r.difference === 0 && r.mismatches.length === 0;
}

/** The report's verdict, one line. */
export function verdict(r: Pick<ReconciliationReport, 'difference' | 'mismatches'>): string {
  if (reconciles(r)) return 'Reconciles to the cent';
  const n = r.mismatches.length;
  return `Does not reconcile: difference ${money(r.difference)}, ${n} mismatch${n === 1 ? '' : 'es'}`;
}

/** A signed amount: "+€12.50", "−€3.00" (a true minus sign), "€0.00". */
export function signedMoney(cents: number): string {
  if (cents === 0) return money(0);
  return (cents > 0 ? '+' : '−') + money(Math.abs(cents));
}

/** An instant as "2026-12-03 07:51 UTC" (what the API sends when it is not a date). */
export function when(iso: string | null): string {
  if (!iso) return '—';
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return iso;
  return `${new Date(t).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

/** "card_settlement" → "Card settlement". */
export function humanize(code: string): string {
  const t = code.replace(/_/g, ' ');
  return t.charAt(0).toUpperCase() + t.slice(1);
}

const MOVEMENT: Record<FloatMovementKind, string> = {
  deposit: 'Deposit',
  withdrawal: 'Withdrawal',
  card_settlement: 'Card settlement',
  clawback: 'Chargeback: pending sale returned',
};
export function movementLabel(kind: string): string {
  return MOVEMENT[kind as FloatMovementKind] ?? humanize(kind);
}

const MISMATCH: Record<MismatchKind, string> = {
  unaccounted: 'Unaccounted charge',
  unknown_payment_ref: 'Unknown payment reference',
  settled_without_charge: 'Settled without a charge',
  amount_mismatch: 'Amount mismatch',
  settled_and_refunded: 'Settled and refunded',
  refund_not_recorded: 'Refund not recorded',
  over_accounted: 'Over-accounted',
  stripe_unreadable: 'Stripe unreadable',
};
export function mismatchLabel(kind: string): string {
  return MISMATCH[kind as MismatchKind] ?? humanize(kind);
}
