// Small helpers the studio's forms share.

/** The value of the input an event came from. */
export const value = (e: Event) => (e.target as HTMLInputElement).value;

/** After a refused submit, the keyboard goes to the first field with a problem (once drawn). */
export function focusFirstInvalid(e: Event) {
  const form = e.currentTarget as HTMLFormElement | null;
  requestAnimationFrame(() => form?.querySelector<HTMLElement>('[aria-invalid="true"]')?.focus());
}
