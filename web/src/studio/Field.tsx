// A form field of the studio dashboard: its label, its input, and its message (announced, and
// linked to the input).
import type { JSX } from 'preact';

/** A form field: label, input, and its message (announced, and linked to the input). */
export function Field(p: {
  id: string;
  label: string;
  error?: string | null | undefined;
  hint?: string;
  children: (a: { id: string; 'aria-invalid': boolean; 'aria-describedby'?: string }) => JSX.Element;
}) {
  const described = [p.hint ? `${p.id}-hint` : '', p.error ? `${p.id}-error` : ''].filter(Boolean).join(' ');
  return (
    <div class="field">
      <label for={p.id}>{p.label}</label>
      {p.hint && (
        <span id={`${p.id}-hint`} class="muted small">
          {p.hint}
        </span>
      )}
      {p.children({ id: p.id, 'aria-invalid': !!p.error, ...(described ? { 'aria-describedby': described } : {}) })}
      {p.error && (
        <span id={`${p.id}-error`} class="field-error" role="alert">
          {p.error}
        </span>
      )}
    </div>
  );
}
