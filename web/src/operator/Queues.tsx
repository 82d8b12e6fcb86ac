// The operator console's queues: studio applications to approve or reject, failed refunds to
// refund, dead jobs to retry (each action with a reason required), and recent alerts.
import { useEffect, useRef, useState } from 'preact/hooks';
import {
  api,
  money,
  type ActionQueued,
  type AlertView,
  type FailedRefund,
  type JobView,
  type StudioApplication,
} from '../api';
import type { Load } from '../hooks';
import { Loaded } from '../ui';
import { humanize, reasonProblem, when } from './model';
import { Cell, PurchaseId, Section, Table, Tx, consoleError } from './parts';

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

export function StudioApplicationsSection({ load, reload, token }: { load: Load<StudioApplication[]>; reload: () => void; token: string }) {
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

export function FailedRefundsSection({ load, reload, token }: { load: Load<FailedRefund[]>; reload: () => void; token: string }) {
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

export function DeadJobsSection({ load, reload, token }: { load: Load<JobView[]>; reload: () => void; token: string }) {
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

export function AlertsSection({ load, retry }: { load: Load<AlertView[]>; retry: () => void }) {
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
