import type { ComponentChildren } from 'preact';
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
