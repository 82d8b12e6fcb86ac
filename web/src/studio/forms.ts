// Small helpers the studio's forms share.
import { ApiError, errorMessage } from '../api';
import type { Session } from '../wallet';

/** The value of the input an event came from. */
export const value = (e: Event) => (e.target as HTMLInputElement).value;

/** After a refused submit, the keyboard goes to the first field with a problem (once drawn). */
export function focusFirstInvalid(e: Event) {
  const form = e.currentTarget as HTMLFormElement | null;
  requestAnimationFrame(() => form?.querySelector<HTMLElement>('[aria-invalid="true"]')?.focus());
}

/** A session signed in to the API (the dashboard's pages need one: the API checks its authority on chain). */
export type Signed = Session & { login: NonNullable<Session['login']> };

/** What a studio call's failure means, for the dashboard. */
export function studioError(e: unknown): string {
  if (e instanceof ApiError && e.status === 401) return 'Your sign-in has expired: sign in again on the wallet page.';
  if (e instanceof ApiError && e.code === 'application_pending')
    return 'you already have a studio application waiting for a platform admin (shown above). You can apply for another studio once it is decided.';
  if (e instanceof ApiError && e.code === 'not_studio_admin')
    return `Your wallet is not this studio's admin, so it cannot change it (${e.message}).`;
  return errorMessage(e);
}
