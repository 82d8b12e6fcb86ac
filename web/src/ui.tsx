import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';
import type { Load } from './hooks';

export function Loading({ what }: { what: string }) {
  return (
    <p class="muted" role="status" aria-live="polite">
      <span class="spinner" aria-hidden="true" /> Loading {what}…
    </p>
  );
}

export function ErrorBox({ children, retry }: { children: ComponentChildren; retry?: () => void }) {
  return (
    <div class="error" role="alert">
      <p>{children}</p>
      {retry && (
        <button type="button" class="secondary" onClick={retry}>
          Try again
        </button>
      )}
    </div>
  );
}

export function Loaded<T>({
  load,
  what,
  retry,
  children,
}: {
  load: Load<T>;
  what: string;
  retry?: () => void;
  children: (v: T) => ComponentChildren;
}) {
  if (load.state === 'loading') return <Loading what={what} />;
  if (load.state === 'error')
    return (
      <ErrorBox {...(retry ? { retry } : {})}>
        Could not load {what}: {load.error}
      </ErrorBox>
    );
  return <>{children(load.value)}</>;
}

const QUALITY_LABEL: Record<string, string> = { sd: 'SD', hd: 'HD', '4k': '4K' };

/** "4K" for `4k`; an unknown quality as it is. */
export function qualityLabel(q: string): string {
  return QUALITY_LABEL[q] ?? q;
}

/**
 * A long identifier (a 78-digit licence id, a transaction hash, an address) on one line, cut in
 * the middle ("#1121016…731846"); the whole value stays in the text (the cut is CSS only), on
 * hover, behind "Show all", and is copied by "Copy".
 */
export function LongId({ value, prefix = '' }: { value: string; prefix?: string }) {
  const [open, setOpen] = useState(false);
  const [copied, setCopied] = useState(false);
  return (
    <span class="long-id">
      <code class={open ? 'wrap' : 'clip'} title={value}>
        <span class="head">
          {prefix}
          {value.slice(0, -6)}
        </span>
        <span class="tail">{value.slice(-6)}</span>
      </code>{' '}
      <button type="button" class="link small" aria-expanded={open} onClick={() => setOpen(!open)}>
        {open ? 'Show less' : 'Show all'}
      </button>{' '}
      <button
        type="button"
        class="link small"
        onClick={() =>
          navigator.clipboard.writeText(value).then(
            () => setCopied(true),
            () => setOpen(true), // no clipboard access: show it whole, to select by hand
          )
        }
      >
        {copied ? 'Copied' : 'Copy'}
      </button>
    </span>
  );
}
