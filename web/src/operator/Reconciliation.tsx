// The operator console's reconciliation: a period's Stripe charges against the chain (charged =
// settled + refunded + pending), and its mismatches.
import { useState } from 'preact/hooks';
import { money, type ReconciliationReport } from '../api';
import type { Load } from '../hooks';
import { Loaded } from '../ui';
import { defaultPeriod, mismatchLabel, periodProblem, reconciles, verdict, when } from './model';
import { Cell, PurchaseId, Section, Table, Tx } from './parts';

export function ReconciliationSection(p: {
  report: Load<ReconciliationReport | null>;
  retry: () => void;
  run: (period: { from: string; to: string }) => void;
}) {
  const [initial] = useState(() => defaultPeriod(new Date()));
  const [from, setFrom] = useState(initial.from);
  const [to, setTo] = useState(initial.to);
  const [error, setError] = useState('');
  const submit = (e: Event) => {
    e.preventDefault();
    const problem = periodProblem(from, to);
    setError(problem ?? '');
    if (problem) return;
    p.run({ from, to });
  };
  return (
    <Section
      id="ops-reconciliation"
      title="Reconciliation"
      testid="operator-reconciliation"
      intro="Stripe's charges of a period against the chain: charged = settled + refunded + pending, to the cent."
    >
      <form class="period" onSubmit={submit} noValidate aria-label="Period of the report">
        <div class="field">
          <label for="rec-from">First day</label>
          <input id="rec-from" type="date" name="rec-from" value={from} aria-invalid={!!error} onInput={(e) => setFrom((e.target as HTMLInputElement).value)} />
        </div>
        <div class="field">
          <label for="rec-to">Last day</label>
          <input id="rec-to" type="date" name="rec-to" value={to} aria-invalid={!!error} onInput={(e) => setTo((e.target as HTMLInputElement).value)} />
        </div>
        <button type="submit" data-testid="run-report" disabled={p.report.state === 'loading'}>
          Run report
        </button>
      </form>
      {error && (
        <p class="field-error" role="alert">
          {error}
        </p>
      )}
      <p class="muted small">Days in UTC, both included; charges are placed by their creation time at Stripe.</p>
      <Loaded load={p.report} what="the reconciliation report (Stripe and the chain are read)" retry={p.retry}>
        {(r) => (r ? <Report r={r} /> : <p class="muted">Choose a period and run the report.</p>)}
      </Loaded>
    </Section>
  );
}

function Term({ label, cents, testid }: { label: string; cents: number; testid: string }) {
  return (
    <div class="term">
      <span class="term-label">{label}</span>
      <span class="term-value" data-testid={testid}>
        {money(cents)}
      </span>
    </div>
  );
}

function Report({ r }: { r: ReconciliationReport }) {
  const ok = reconciles(r);
  return (
    <div data-testid="reconciliation-report">
      <p class="small">
        {r.charges} charge{r.charges === 1 ? '' : 's'} created from {when(r.period.from)} to {when(r.period.to)} (excluded).
      </p>
      <p class={ok ? 'verdict ok' : 'verdict bad'} role="status" data-testid="reconciliation-status">
        {ok ? '✓ ' : '✗ '}
        {verdict(r)}
      </p>
      <div class="identity" role="group" aria-label="Charged equals settled plus refunded plus pending">
        <Term label="Charged at Stripe" cents={r.stripe_charged_cents} testid="rec-charged" />
        <span class="op" aria-hidden="true">
          =
        </span>
        <Term label="Settled on chain" cents={r.settled_cents} testid="rec-settled" />
        <span class="op" aria-hidden="true">
          +
        </span>
        <Term label="Refunded" cents={r.refunded_cents} testid="rec-refunded" />
        <span class="op" aria-hidden="true">
          +
        </span>
        <Term label="Pending" cents={r.pending_cents} testid="rec-pending" />
      </div>
      <p class="small">
        Difference <strong data-testid="rec-difference">{money(r.difference)}</strong>. Of the refunded amount, charged back
        (lost disputes): {money(r.charged_back_cents)}. Settlements since revoked, paid from the float and not recovered
        (outside the identity): {money(r.revoked_settlements_cents)}.
      </p>
      <h3>Mismatches</h3>
      {r.mismatches.length === 0 ? (
        <p class="muted" data-testid="no-mismatch">
          No mismatch.
        </p>
      ) : (
        <Table
          testid="mismatches"
          caption="Mismatches"
          head={['Kind', 'Purchase', 'State', '#Charged', '#Refunded', '#On chain', 'Detail']}
        >
          {r.mismatches.map((m, i) => (
            <tr key={i} data-purchase-id={m.purchase_id ?? undefined} data-kind={m.kind_of_mismatch}>
              <Cell label="Kind">{mismatchLabel(m.kind_of_mismatch)}</Cell>
              <Cell label="Purchase">
                {m.purchase_id ? <PurchaseId id={m.purchase_id} /> : <Tx hash={m.payment_ref} />}
              </Cell>
              <Cell label="State">{m.state ?? '—'}</Cell>
              <Cell label="Charged" class="num">
                {money(m.stripe_cents)}
              </Cell>
              <Cell label="Refunded" class="num">
                {money(m.stripe_refunded_cents)}
              </Cell>
              <Cell label="On chain" class="num">
                {money(m.chain_cents)}
              </Cell>
              <Cell label="Detail" class="text">
                {m.detail}
                {m.tx_hashes.length > 0 && (
                  <span class="muted small">
                    {' '}
                    (tx {m.tx_hashes.map((t, j) => (
                      <span key={t}>
                        {j > 0 && ', '}
                        <Tx hash={t} />
                      </span>
                    ))}
                    )
                  </span>
                )}
              </Cell>
            </tr>
          ))}
        </Table>
      )}
      <details class="small">
        <summary>How this report is made</summary>
        <p class="muted">{r.method}</p>
      </details>
    </div>
  );
}
