// The operator console's layout: a section, a table that turns into labelled cards on a phone,
// its cells and ids, and what an API refusal means to an operator.
import type { ComponentChildren, JSX } from 'preact';
import { ApiError, errorMessage, short } from '../api';

/** What an API refusal means to an operator. */
export function consoleError(e: unknown): string {
  if (e instanceof ApiError && e.status === 401) return 'Your sign-in has expired: sign in again on the wallet page.';
  if (e instanceof ApiError && e.code === 'not_platform_admin') return 'This wallet is not a platform admin.';
  if (e instanceof ApiError && e.code === 'job_not_dead') return `This job is not dead any more (retried, running or done): ${e.message}`;
  if (e instanceof ApiError && e.code === 'not_refundable') return `This purchase cannot be refunded now: ${e.message}`;
  if (e instanceof ApiError && e.code === 'not_pending')
    return `This application is not pending any more (decided, or its approval is under way): ${e.message}. Refresh the list.`;
  if (e instanceof ApiError && e.code === 'not_found') return `Not found: ${e.message}. Refresh the list.`;
  return errorMessage(e);
}

export function Section(p: { id: string; title: string; testid: string; intro?: ComponentChildren; children: ComponentChildren }) {
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
export function Table(p: { testid: string; head: string[]; children: ComponentChildren; caption: string; compact?: boolean }) {
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
export function Cell(p: { label: string; class?: string; children: ComponentChildren }): JSX.Element {
  return (
    <td data-label={p.label} class={p.class}>
      <div class="v">{p.children}</div>
    </td>
  );
}

export function Tx({ hash }: { hash: string | null }) {
  return hash ? <code title={hash}>{short(hash)}</code> : <span class="muted">—</span>;
}

export function PurchaseId({ id }: { id: string | null }) {
  return id ? <code class="id">{id}</code> : <span class="muted">—</span>;
}
