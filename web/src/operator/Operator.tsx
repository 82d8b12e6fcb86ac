// The operator console (loaded on demand, platform admins only — the API checks the market's
// admin role on chain at every request): the operator's float and its movements, the money
// reconciliation of a period, the studio applications waiting for approval ("approve" /
// "reject"), failed refunds and dead jobs with their "refund" / "retry" (each action with a
// reason required), and recent alerts.
import type { ComponentChildren, JSX } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import {
  ApiError,
  api,
  errorMessage,
  money,
  short,
  type ActionQueued,
  type AlertView,
  type FailedRefund,
  type FloatView,
  type JobView,
  type ReconciliationReport,
  type StudioApplication,
} from '../api';
import { useLoad, useSession, type Load } from '../hooks';
import { Loaded } from '../ui';
import { signedIn } from '../wallet';
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
} from './model';

/** Rows asked for: the float's movements (10 shown until "Show all"), and the other lists. */
const MOVEMENTS = 100;
const SHOWN_MOVEMENTS = 10;
const ROWS = 50;

type Denied = 'forbidden' | 'expired' | null;

/** What an API refusal means to an operator. */
function consoleError(e: unknown): string {
  if (e instanceof ApiError && e.status === 401) return 'Your sign-in has expired: sign in again on the wallet page.';
  if (e instanceof ApiError && e.code === 'not_platform_admin') return 'This wallet is not a platform admin.';
  if (e instanceof ApiError && e.code === 'job_not_dead') return `This job is not dead any more (retried, running or done): ${e.message}`;
  if (e instanceof ApiError && e.code === 'not_refundable') return `This purchase cannot be refunded now: ${e.message}`;
  if (e instanceof ApiError && e.code === 'not_pending')
    return `This application is not pending any more (decided, or its approval is under way): ${e.message}. Refresh the list.`;
  if (e instanceof ApiError && e.code === 'not_found') return `Not found: ${e.message}. Refresh the list.`;
  return errorMessage(e);
}

export function OperatorPage() {
  const s = useSession();
  if (s && signedIn(s) && s.login) return <Console key={`${s.address}:${s.login.token}`} token={s.login.token} address={s.address} />;
  return (
    <section>
      <h1>Operator console</h1>
      <p>
        The platform's operators follow the card float, reconcile Stripe with the chain, and handle failed refunds and
        dead jobs here. It is for the platform admin's wallet only.
      </p>
      <p>
        <a href={`/wallet?next=${encodeURIComponent('/operator')}`}>
          {s ? 'Sign in with your wallet' : 'Unlock or create your wallet'}
        </a>{' '}
        to continue; you come back here afterwards.
      </p>
    </section>
  );
}

function Console({ token, address }: { token: string; address: string }) {
  const [denied, setDenied] = useState<Denied>(null);
  /** A load whose refusal (not an admin, sign-in expired) is the page's, and whose error reads well. */
  function guarded<T>(f: () => Promise<T>): () => Promise<T> {
    return async () => {
      try {
        return await f();
      } catch (e) {
        if (e instanceof ApiError && e.code === 'not_platform_admin') setDenied('forbidden');
        else if (e instanceof ApiError && e.status === 401) setDenied('expired');
        throw new Error(consoleError(e), { cause: e });
      }
    };
  }
  // Every list is asked for at once; the reconciliation only when its report is run.
  const [float, reloadFloat] = useLoad(guarded(() => api.adminFloat(token, MOVEMENTS)), [token]);
  const [refunds, reloadRefunds] = useLoad(guarded(() => api.failedRefunds(token, ROWS)), [token]);
  const [jobs, reloadJobs] = useLoad(guarded(() => api.adminJobs(token, 'dead', ROWS)), [token]);
  const [alerts, reloadAlerts] = useLoad(guarded(() => api.adminAlerts(token, ROWS)), [token]);
  const [applications, reloadApplications] = useLoad(guarded(() => api.studioApplications(token, 'pending')), [token]);
  const [period, setPeriod] = useState<{ from: string; to: string } | null>(null);
  const [report, rerun] = useLoad(
    guarded(() => (period ? api.reconciliation(token, period.from, period.to) : Promise.resolve(null))),
    [token, period],
  );

  if (denied)
    return (
      <section>
        <h1>Operator console</h1>
        <div class="error" role="alert" data-testid="operator-forbidden">
          {denied === 'forbidden' ? (
            <>
              <p>
                <strong>This wallet is not a platform admin.</strong>
              </p>
              <p>
                <code title={address}>{short(address)}</code> does not hold the market's admin role, so the API refuses it the
                operator console. Sign in with the platform admin's wallet to use it.
              </p>
            </>
          ) : (
            <p>Your sign-in has expired or was not accepted: sign in again.</p>
          )}
          <p>
            <a href={`/wallet?next=${encodeURIComponent('/operator')}`}>Go to the wallet page</a>
          </p>
        </div>
      </section>
    );

  const refreshAll = () => {
    reloadFloat();
    reloadRefunds();
    reloadJobs();
    reloadAlerts();
    reloadApplications();
    if (period) rerun();
  };
  return (
    <section class="operator">
      <h1>Operator console</h1>
      <div class="row ops-head">
        <p class="muted small">
          Signed in as <code title={address}>{short(address)}</code>. Amounts in euros, times in UTC.
        </p>
        <button type="button" class="secondary" data-testid="operator-refresh" onClick={refreshAll}>
          Refresh
        </button>
      </div>
      <FloatSection load={float} retry={reloadFloat} />
      <ReconciliationSection
        report={report}
        retry={rerun}
        run={(p) => (period && p.from === period.from && p.to === period.to ? rerun() : setPeriod(p))}
      />
      <StudioApplicationsSection load={applications} reload={reloadApplications} token={token} />
      <FailedRefundsSection load={refunds} reload={reloadRefunds} token={token} />
      <DeadJobsSection load={jobs} reload={reloadJobs} token={token} />
      <AlertsSection load={alerts} retry={reloadAlerts} />
    </section>
  );
}

function Section(p: { id: string; title: string; testid: string; intro?: ComponentChildren; children: ComponentChildren }) {
  return (
    <section class="ops-section card" data-testid={p.testid} aria-labelledby={p.id}>
      <h2 id={p.id}>{p.title}</h2>
      {p.intro && <p class="muted small">{p.intro}</p>}
      {p.children}
    </section>
  );
}

/**
 * A table that turns into labelled cards on a phone (each cell names its column); a `compact`
 * one (the float's movements) into two columns of short lines.
 */
function Table(p: { testid: string; head: string[]; children: ComponentChildren; caption: string; compact?: boolean }) {
  return (
    <div class="table-scroll">
      <table class={p.compact ? 'ops-table compact' : 'ops-table'} data-testid={p.testid}>
        <caption class="visually-hidden">{p.caption}</caption>
        <thead>
          <tr>
            {p.head.map((h) => (
              <th scope="col" key={h} class={h.startsWith('#') ? 'num' : undefined}>
                {h.replace(/^#/, '') || <span class="visually-hidden">Actions</span>}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>{p.children}</tbody>
      </table>
    </div>
  );
}

/** A cell with its column's name (shown before the value on a phone). */
function Cell(p: { label: string; class?: string; children: ComponentChildren }): JSX.Element {
  return (
    <td data-label={p.label} class={p.class}>
      <div class="v">{p.children}</div>
    </td>
  );
}

function Tx({ hash }: { hash: string | null }) {
  return hash ? <code title={hash}>{short(hash)}</code> : <span class="muted">—</span>;
}

function PurchaseId({ id }: { id: string | null }) {
  return id ? <code class="id">{id}</code> : <span class="muted">—</span>;
}

// ------------------------------------------------------------------ the float

function FloatSection({ load, retry }: { load: Load<FloatView>; retry: () => void }) {
  const [all, setAll] = useState(false);
  return (
    <Section
      id="ops-float"
      title="Float"
      testid="operator-float"
      intro="The operator's balance in the market: card settlements are paid from it, on chain."
    >
      <Loaded load={load} what="the float" retry={retry}>
        {(f) => {
          const shown = all ? f.movements : f.movements.slice(0, SHOWN_MOVEMENTS);
          return (
            <>
              <dl class="totals float-totals">
                <div class={f.low ? 'low' : undefined} data-testid="float-summary">
                  <dt>Balance</dt>
                  <dd>
                    <span data-testid="float-balance">{money(f.balance_cents)}</span>{' '}
                    {f.low && (
                      <span class="badge danger" data-testid="float-low">
                        LOW
                      </span>
                    )}
                  </dd>
                </div>
                <div>
                  <dt>Alert threshold</dt>
                  <dd data-testid="float-warning">{money(f.warning_cents)}</dd>
                </div>
                <div>
                  <dt>Card settled today</dt>
                  <dd data-testid="float-daily">
                    {money(f.settled_today_cents)} of {money(f.daily_limit_cents)} a day
                  </dd>
                </div>
                <div>
                  <dt>Operator account</dt>
                  <dd class="small">
                    <code title={f.operator}>{short(f.operator)}</code>
                  </dd>
                </div>
              </dl>
              {f.low && (
                <div class="error" role="alert">
                  <p>
                    <strong>The float is low:</strong> {money(f.balance_cents)} is below the alert threshold of{' '}
                    {money(f.warning_cents)}. Deposit more before card settlements fail.
                  </p>
                </div>
              )}
              <h3>Latest movements</h3>
              {f.movements.length === 0 ? (
                <p class="muted" data-testid="float-no-movement">
                  No movement yet.
                </p>
              ) : (
                <>
                  <Table compact testid="float-movements" caption="Latest movements of the float" head={['Kind', '#Amount', '#Balance after', 'Time', 'Transaction']}>
                    {shown.map((m, i) => (
                      <tr key={`${m.tx_hash ?? ''}-${i}`} data-kind={m.kind}>
                        <Cell label="Kind">{movementLabel(m.kind)}</Cell>
                        <Cell label="Amount" class={`num ${m.cents < 0 ? 'out' : 'in'}`}>
                          {signedMoney(m.cents)}
                        </Cell>
                        <Cell label="Balance after" class="num">
                          {money(m.balance_after_cents)}
                        </Cell>
                        <Cell label="Time">{when(m.at)}</Cell>
                        <Cell label="Transaction">
                          <Tx hash={m.tx_hash} />
                        </Cell>
                      </tr>
                    ))}
                  </Table>
                  {f.movements.length > SHOWN_MOVEMENTS && (
                    <p>
                      <button type="button" class="link" data-testid="float-show-all" aria-expanded={all} onClick={() => setAll(!all)}>
                        {all ? `Show the latest ${SHOWN_MOVEMENTS}` : `Show all ${f.movements.length} movements`}
                      </button>
                    </p>
                  )}
                </>
              )}
            </>
          );
        }}
      </Loaded>
    </Section>
  );
}

// ------------------------------------------------------------------ the reconciliation

function ReconciliationSection(p: {
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

// ------------------------------------------------------------------ actions with a reason

/**
 * A reason field (3–500 characters, checked before anything is sent), its submit and "Cancel";
 * `progress` is said while the action is sent, and a refusal is shown under the field.
 */
function ReasonForm<T>(p: {
  id: string;
  submit: string;
  sending: string;
  progress?: string;
  failure: string;
  send: (reason: string) => Promise<T>;
  onDone: (r: T) => void;
  onCancel: () => void;
}) {
  const [reason, setReason] = useState('');
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  const input = useRef<HTMLInputElement>(null);
  useEffect(() => {
    input.current?.focus();
  }, []);
  const submit = async (e: Event) => {
    e.preventDefault();
    const problem = reasonProblem(reason);
    setError(problem ?? '');
    if (problem) return input.current?.focus();
    setBusy(true);
    try {
      const r = await p.send(reason.trim());
      p.onDone(r);
    } catch (err) {
      setError(`${p.failure}: ${consoleError(err)}`);
      setBusy(false);
    }
  };
  const fid = `${p.id}-reason`;
  return (
    <form class="reason-form" onSubmit={submit} noValidate data-testid="reason-form" aria-busy={busy}>
      <label for={fid}>Reason</label>
      <input
        ref={input}
        id={fid}
        name="reason"
        value={reason}
        placeholder="Why (3–500 characters)"
        aria-invalid={!!error}
        aria-describedby={error ? `${fid}-error` : undefined}
        disabled={busy}
        onInput={(e) => setReason((e.target as HTMLInputElement).value)}
      />
      <span class="row">
        <button type="submit" class="small" disabled={busy}>
          {busy ? p.sending : p.submit}
        </button>
        <button type="button" class="secondary small" disabled={busy} onClick={p.onCancel}>
          Cancel
        </button>
      </span>
      {busy && p.progress && (
        <span class="muted small" role="status" data-testid="reason-progress">
          <span class="spinner" aria-hidden="true" /> {p.progress}
        </span>
      )}
      {error && (
        <span id={`${fid}-error`} class="field-error" role="alert" data-testid="reason-error">
          {error}
        </span>
      )}
    </form>
  );
}

/** A row's action: the button opens an inline reason field, checked before it is sent. */
function ReasonAction(p: {
  id: string;
  label: 'Refund' | 'Retry';
  send: (reason: string) => Promise<ActionQueued>;
  onQueued: (q: ActionQueued) => void;
}) {
  const [open, setOpen] = useState(false);
  if (!open)
    return (
      <button type="button" class="small" onClick={() => setOpen(true)}>
        {p.label}
      </button>
    );
  return (
    <ReasonForm
      id={p.id}
      submit={p.label === 'Refund' ? 'Send refund' : 'Send retry'}
      sending="Sending…"
      failure={`${p.label === 'Refund' ? 'The refund' : 'The retry'} was not queued`}
      send={p.send}
      onDone={(q) => {
        setOpen(false);
        p.onQueued(q);
      }}
      onCancel={() => setOpen(false)}
    />
  );
}

function Queued({ text }: { text: string }) {
  return (
    <div class="success" role="status" data-testid="action-queued">
      <p>{text}</p>
    </div>
  );
}

// ------------------------------------------------------------------ studio applications

/** Approve or reject a pending application: either opens the reason field (one at a time). */
function DecideApplication(p: { app: StudioApplication; token: string; onDecided: (a: StudioApplication) => void }) {
  const [mode, setMode] = useState<'approve' | 'reject' | null>(null);
  const id = p.app.application_id;
  if (!mode)
    return (
      <span class="row decide">
        <button type="button" class="small" onClick={() => setMode('approve')}>
          Approve
        </button>
        <button type="button" class="secondary small" onClick={() => setMode('reject')}>
          Reject
        </button>
      </span>
    );
  const approve = mode === 'approve';
  return (
    <ReasonForm
      key={mode}
      id={`${mode}-application-${id}`}
      submit={approve ? 'Approve studio' : 'Reject application'}
      sending={approve ? 'Approving…' : 'Rejecting…'}
      progress={approve ? 'Registering the studio on chain (a few seconds)…' : 'Recording the rejection…'}
      failure={`The application was not ${approve ? 'approved' : 'rejected'}`}
      send={(reason) =>
        approve ? api.approveStudioApplication(p.token, id, reason) : api.rejectStudioApplication(p.token, id, reason)
      }
      onDone={(a) => {
        setMode(null);
        p.onDecided(a);
      }}
      onCancel={() => setMode(null)}
    />
  );
}

/** What a decision did: the studio registered (its id and transaction), or the rejection. */
function Decided({ a }: { a: StudioApplication }) {
  return (
    <div class="success" role="status" data-testid="application-decided" data-application-id={a.application_id} data-state={a.state}>
      {a.state === 'approved' ? (
        <p>
          Approved “{a.name}” (application #{a.application_id}): registered on chain as{' '}
          <strong data-testid="decided-studio">studio #{a.studio_id ?? '?'}</strong>, transaction <Tx hash={a.tx_hash} />.
        </p>
      ) : a.state === 'rejected' ? (
        <p>
          Rejected “{a.name}” (application #{a.application_id}). The applicant sees your reason: “{a.reason ?? ''}”.
        </p>
      ) : (
        <p>
          “{a.name}” (application #{a.application_id}) is now {humanize(a.state).toLowerCase()}.
        </p>
      )}
    </div>
  );
}

function StudioApplicationsSection({ load, reload, token }: { load: Load<StudioApplication[]>; reload: () => void; token: string }) {
  const [decided, setDecided] = useState<StudioApplication | null>(null);
  return (
    <Section
      id="ops-studio-applications"
      title="Studio applications"
      testid="operator-studio-applications"
      intro="Wallets asking to register a studio, oldest first. Approve registers it on chain with the applicant as its admin; Reject refuses it. Either needs a reason, which the applicant sees."
    >
      {decided && <Decided a={decided} />}
      <Loaded load={load} what="the studio applications" retry={reload}>
        {(rows) =>
          rows.length === 0 ? (
            <p class="muted" data-testid="studio-applications-empty">
              None: no studio application waits for a decision.
            </p>
          ) : (
            <Table testid="studio-applications" caption="Studio applications waiting for a decision" head={['Application', 'Studio name', 'Applicant', 'Royalty address', 'Applied', '']}>
              {rows.map((a) => (
                <tr key={a.application_id} data-testid={`studio-application-${a.application_id}`} data-application-id={a.application_id}>
                  <Cell label="Application">#{a.application_id}</Cell>
                  <Cell label="Studio name" class="text">
                    <strong>{a.name}</strong>
                  </Cell>
                  <Cell label="Applicant">
                    <code class="id">{a.admin_address}</code>
                  </Cell>
                  <Cell label="Royalty address">
                    <code class="id">{a.royalty_address}</code>
                  </Cell>
                  <Cell label="Applied">{when(a.applied_at)}</Cell>
                  <Cell label="Action" class="action">
                    <DecideApplication
                      app={a}
                      token={token}
                      onDecided={(d) => {
                        setDecided(d);
                        reload();
                      }}
                    />
                  </Cell>
                </tr>
              ))}
            </Table>
          )
        }
      </Loaded>
    </Section>
  );
}

// ------------------------------------------------------------------ failed refunds

function FailedRefundsSection({ load, reload, token }: { load: Load<FailedRefund[]>; reload: () => void; token: string }) {
  const [queued, setQueued] = useState('');
  return (
    <Section
      id="ops-failed-refunds"
      title="Failed refunds"
      testid="operator-failed-refunds"
      intro="Purchases still charged whose refund failed: the money is taken and no licence exists. Refund queues the refund again."
    >
      {queued && <Queued text={queued} />}
      <Loaded load={load} what="the failed refunds" retry={reload}>
        {(rows) =>
          rows.length === 0 ? (
            <p class="muted" data-testid="failed-refunds-empty">
              None: no refund waits for an operator.
            </p>
          ) : (
            <Table
              testid="failed-refunds"
              caption="Failed refunds"
              head={['Purchase', '#Amount', 'Failure', 'Last refund error', '#Attempts', 'Last attempt', '']}
            >
              {rows.map((r) => (
                <tr key={r.purchase_id} data-purchase-id={r.purchase_id}>
                  <Cell label="Purchase">
                    <PurchaseId id={r.purchase_id} />
                    {r.payment_intent_id && (
                      <span class="muted small block">
                        <code>{r.payment_intent_id}</code>
                      </span>
                    )}
                  </Cell>
                  <Cell label="Amount" class="num">
                    {money(r.amount_cents)}
                  </Cell>
                  <Cell label="Failure">{r.failure_code ? <code>{r.failure_code}</code> : '—'}</Cell>
                  <Cell label="Last refund error" class="text">
                    {r.last_refund_error ?? '—'}
                  </Cell>
                  <Cell label="Attempts" class="num">
                    {r.refund_attempts}
                  </Cell>
                  <Cell label="Last attempt">{when(r.last_attempt_at)}</Cell>
                  <Cell label="Action" class="action">
                    <ReasonAction
                      id={`refund-${r.purchase_id}`}
                      label="Refund"
                      send={(reason) => api.refundPurchase(token, r.purchase_id, reason)}
                      onQueued={(q) => {
                        setQueued(`Refund queued (job ${q.job_id}) for purchase ${q.purchase_id}, now ${humanize(q.purchase_state).toLowerCase()}.`);
                        reload();
                      }}
                    />
                  </Cell>
                </tr>
              ))}
            </Table>
          )
        }
      </Loaded>
    </Section>
  );
}

// ------------------------------------------------------------------ dead jobs

function DeadJobsSection({ load, reload, token }: { load: Load<JobView[]>; reload: () => void; token: string }) {
  const [queued, setQueued] = useState('');
  return (
    <Section
      id="ops-dead-jobs"
      title="Dead jobs"
      testid="operator-dead-jobs"
      intro="Jobs given up after their attempts (settlement, refund, revocation…). Retry queues one again, its attempts starting over."
    >
      {queued && <Queued text={queued} />}
      <Loaded load={load} what="the dead jobs" retry={reload}>
        {(rows) =>
          rows.length === 0 ? (
            <p class="muted" data-testid="dead-jobs-empty">
              None: no job has been given up.
            </p>
          ) : (
            <Table testid="dead-jobs" caption="Dead jobs" head={['Job', 'Kind', 'Purchase', '#Attempts', 'Last error', 'Updated', '']}>
              {rows.map((j) => (
                <tr key={j.job_id} data-job-id={j.job_id} data-purchase-id={j.purchase_id}>
                  <Cell label="Job">#{j.job_id}</Cell>
                  <Cell label="Kind">{humanize(j.kind)}</Cell>
                  <Cell label="Purchase">
                    <PurchaseId id={j.purchase_id} />
                    <span class="muted small block">{humanize(j.purchase_state)}</span>
                  </Cell>
                  <Cell label="Attempts" class="num">
                    {j.attempts}
                  </Cell>
                  <Cell label="Last error" class="text">
                    {j.last_error ?? '—'}
                  </Cell>
                  <Cell label="Updated">{when(j.updated_at)}</Cell>
                  <Cell label="Action" class="action">
                    <ReasonAction
                      id={`retry-${j.job_id}`}
                      label="Retry"
                      send={(reason) => api.retryJob(token, j.job_id, reason)}
                      onQueued={(q) => {
                        setQueued(`Retry queued (job ${q.job_id}): ${q.kind} of purchase ${q.purchase_id}.`);
                        reload();
                      }}
                    />
                  </Cell>
                </tr>
              ))}
            </Table>
          )
        }
      </Loaded>
    </Section>
  );
}

// ------------------------------------------------------------------ alerts

function AlertsSection({ load, retry }: { load: Load<AlertView[]>; retry: () => void }) {
  return (
    <Section id="ops-alerts" title="Recent alerts" testid="operator-alerts" intro="What the API raised for an operator, newest first.">
      <Loaded load={load} what="the alerts" retry={retry}>
        {(rows) =>
          rows.length === 0 ? (
            <p class="muted" data-testid="alerts-empty">
              No alert.
            </p>
          ) : (
            <Table testid="alerts" caption="Recent alerts" head={['Time', 'Reason', 'Purchase', 'Detail']}>
              {rows.map((a) => (
                <tr key={a.alert_id} data-alert-id={a.alert_id} data-purchase-id={a.purchase_id ?? undefined}>
                  <Cell label="Time">{when(a.created_at)}</Cell>
                  <Cell label="Reason">
                    <code>{a.reason}</code>
                  </Cell>
                  <Cell label="Purchase">
                    <PurchaseId id={a.purchase_id} />
                  </Cell>
                  <Cell label="Detail" class="text">
                    {a.detail}
                  </Cell>
                </tr>
              ))}
            </Table>
          )
        }
      </Loaded>
    </Section>
  );
}
