// The API client: typed calls to /v1, errors carrying the API's code and message.

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** What to show for a thrown value. */
export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

export interface Edition {
  edition_id: string;
  quality: string;
  price_cents: number;
  active: boolean;
  master_hash: string;
}
export interface Film {
  film_id: number;
  studio_id: number;
  studio_name: string;
  title: string;
  year: number;
  editions: Edition[];
}
export interface Page<T> {
  items: T[];
  next_cursor: string | null;
}
export interface Offer {
  offer_id: string;
  licence_id: string;
  film_id: number;
  quality: string;
  seller_address: string;
  price_cents: number;
  status: string;
  buyer_address: string | null;
  /** Block and transaction of the listing. */
  listed_block: number;
  listed_tx: string;
}
export interface Licence {
  licence_id: string;
  owner_address: string;
  film_id: number;
  quality: string;
  tx_hash: string;
  acquired_at: string;
  hold_until: string | null;
  revoked: boolean;
}
export interface PublicConfig {
  chain_id: number;
  /** Signer of licence certificates (`null`: this API issues none). */
  attestation_address: string | null;
  certificate_validity_secs: number;
  currency: string;
  stripe_publishable_key: string | null;
  stripe_js_url: string;
  siwe: { domain: string; uri: string };
}
export interface Nonce {
  nonce: string;
  domain: string;
  uri: string;
  chain_id: number;
  issued_at: string;
  expiration_time: string;
  statement: string;
}
export interface Login {
  token: string;
  address: string;
  expires_at: string;
}
export interface PurchaseCreated {
  purchase_id: string;
  payment_intent_id: string;
  client_secret: string;
  amount: number;
  currency: string;
}
export interface Purchase {
  purchase_id: string;
  state: string;
  film_id: number;
  quality: string;
  amount: number;
  currency: string;
  licence_id: string | null;
  tx_hash: string | null;
  failure_code: string | null;
  failure_message: string | null;
  /** The new licence minted when a dispute was closed won (state `reinstated`). */
  reinstated_licence_id?: string | null;
}
/** Purchase states no further polling changes (after fulfilment, only Stripe's word does). */
export const SETTLED_PURCHASE_STATES = [
  'fulfilled',
  'failed',
  'refunded',
  'expired',
  'disputed',
  'revoked',
  'reinstated',
  'dispute_lost',
];
/** `GET /v1/editions/{id}/content`: where an edition's encrypted file is. */
export interface EditionContent {
  edition_id: string;
  film_id: number;
  quality: string;
  master_hash: string;
  blob_hash: string;
  size: number;
  http_url: string;
}
export interface PaymentResult {
  status: string;
  message: string | null;
}

async function call<T>(method: string, path: string, body?: unknown, token?: string): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (token) headers['Authorization'] = `Bearer ${token}`;
  const init: RequestInit = { method, headers };
  if (body !== undefined) init.body = JSON.stringify(body);
  let res: Response;
  try {
    res = await fetch(path, init);
  } catch {
    throw new ApiError(0, 'network', 'The server cannot be reached. Check your connection and try again.');
  }
  const text = await res.text();
  let json: unknown = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    /* not JSON: reported below */
  }
  if (!res.ok) {
    const err = (json as { error?: { code?: string; message?: string } } | null)?.error;
    throw new ApiError(res.status, err?.code ?? 'http_' + res.status, err?.message ?? `Request failed (${res.status}).`);
  }
  return json as T;
}

export interface StudioCreated {
  studio_id: number;
  name: string;
  admin_address: string;
  royalty_address: string;
  commission_bps: number;
  tx_hash: string;
}
export interface DeclaredEdition {
  edition_id: string;
  quality: string;
  price_cents: number;
  status: string;
}
export interface FilmCreated {
  film_id: number;
  studio_id: number;
  title: string;
  year: number;
  tx_hash: string;
  editions: DeclaredEdition[];
}
export interface EditionStatus {
  edition_id: string;
  active: boolean;
  tx_hash: string;
}
export interface MasterPublished {
  edition_id: string;
  film_id: number;
  quality: string;
  master_hash: string;
  size: number;
  price_cents: number;
  active: boolean;
  tx_hash: string | null;
}
export interface Sale {
  tx_hash: string;
  log_index: number;
  block_number: number;
  block_timestamp: string | null;
  kind: string;
  licence_id: string;
  film_id: number | null;
  price_cents: number;
  seller_cents: number;
  studio_cents: number;
  platform_cents: number;
  payment_ref: string | null;
  /** The offer a resale filled (`/v1/sales` sends it; the statement's lines too). */
  offer_id?: string | null;
  seller_address?: string | null;
}
export interface Statement {
  studio_id: number;
  from: string | null;
  to: string | null;
  sales: number;
  gross_cents: number;
  studio_cents: number;
  platform_cents: number;
  seller_cents: number;
  lines: Sale[];
}

// --- The operator console (`/v1/admin/*`, platform admins only: 403 `not_platform_admin`).
export type FloatMovementKind = 'deposit' | 'withdrawal' | 'card_settlement';
/** One movement of the operator's float on chain (`cents` signed: negative out of the float). */
export interface FloatMovement {
  kind: FloatMovementKind;
  cents: number;
  balance_after_cents: number;
  licence_id: string | null;
  payment_ref: string | null;
  tx_hash: string | null;
  block_number: number | null;
  at: string | null;
}
/** `GET /v1/admin/float`: the float card settlements are paid from, and its latest movements. */
export interface FloatView {
  operator: string;
  balance_cents: number;
  warning_cents: number;
  low: boolean;
  /** Newest first. */
  movements: FloatMovement[];
}
export interface AlertView {
  alert_id: number;
  reason: string;
  purchase_id: string | null;
  detail: string;
  created_at: string;
}
export type JobState = 'dead' | 'queued' | 'running' | 'done';
export interface JobView {
  job_id: number;
  /** `settle`, `refund`, `revoke`, `receipt` or `reinstate`. */
  kind: string;
  purchase_id: string;
  purchase_state: string;
  state: JobState;
  attempts: number;
  last_error: string | null;
  created_at: string;
  updated_at: string;
}
/** What an operator's retry or refund queued (202). */
export interface ActionQueued {
  action_id: number;
  job_id: number;
  kind: string;
  purchase_id: string;
  purchase_state: string;
}
export interface FailedRefund {
  purchase_id: string;
  payment_intent_id: string | null;
  amount_cents: number;
  failure_code: string | null;
  last_refund_error: string | null;
  refund_attempts: number;
  last_attempt_at: string;
}
export type MismatchKind =
  | 'unaccounted'
  | 'unknown_payment_ref'
  | 'settled_without_charge'
  | 'amount_mismatch'
  | 'settled_and_refunded'
  | 'refund_not_recorded'
  | 'over_accounted'
  | 'stripe_unreadable';
export interface Mismatch {
  kind_of_mismatch: MismatchKind;
  purchase_id: string | null;
  payment_intent_id: string | null;
  payment_ref: string | null;
  state: string | null;
  stripe_cents: number;
  stripe_refunded_cents: number;
  chain_cents: number;
  tx_hashes: string[];
  detail: string;
}
/** `GET /v1/admin/reconciliation`: charged = settled + refunded + pending, to the cent. */
export interface ReconciliationReport {
  /** `[from, to)`, RFC 3339. */
  period: { from: string; to: string };
  charges: number;
  stripe_charged_cents: number;
  settled_cents: number;
  refunded_cents: number;
  charged_back_cents: number;
  pending_cents: number;
  revoked_settlements_cents: number;
  /** charged − (settled + refunded + pending). */
  difference: number;
  mismatches: Mismatch[];
  method: string;
}

/** A period's query string (`from` inclusive, `to` exclusive, RFC 3339). */
function period(from: string, to: string, extra = ''): string {
  return `?from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}${extra}`;
}

/** The statement's CSV, as the API writes it (a plain link downloads it). */
export function statementCsvUrl(studioId: number, from: string, to: string): string {
  return `/v1/studios/${studioId}/statement${period(from, to, '&format=csv')}`;
}

/** At most this many pages of 100 are read by `every` (a film's offers, its resales). */
const MAX_PAGES = 10;

/** Every item of a paged listing (`path` has a query string), up to `MAX_PAGES` pages. */
async function every<T>(path: string): Promise<{ items: T[]; truncated: boolean }> {
  const items: T[] = [];
  let cursor: string | null = null;
  for (let n = 0; n < MAX_PAGES; n++) {
    const page: Page<T> = await call<Page<T>>('GET', `${path}&limit=100` + (cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''));
    items.push(...page.items);
    cursor = page.next_cursor;
    if (!cursor) return { items, truncated: false };
  }
  return { items, truncated: true };
}

export const api = {
  config: () => call<PublicConfig>('GET', '/v1/config'),
  films: (q: string) => call<Page<Film>>('GET', '/v1/films?limit=50' + (q ? '&q=' + encodeURIComponent(q) : '')),
  film: (id: number) => call<Film>('GET', `/v1/films/${id}`),
  /** A film's resale offers with `status` (`active`, `filled`, …), every page. */
  offers: (filmId: number, status: 'active' | 'filled' = 'active') => every<Offer>(`/v1/offers?film_id=${filmId}&status=${status}`),
  /** A film's resales (sales of `kind` resale), every page, in event order. */
  resales: (filmId: number) => every<Sale>(`/v1/sales?film_id=${filmId}&kind=resale`),
  /** Starts a card purchase of a resale offer: the API prices it from the chain. */
  buyOffer: (offerId: string, buyer: string) =>
    call<PurchaseCreated>('POST', `/v1/offers/${encodeURIComponent(offerId)}/purchases`, { buyer_address: buyer }),
  licences: (owner: string) => call<Page<Licence>>('GET', `/v1/licences?owner=${encodeURIComponent(owner)}`),
  nonce: (address: string) => call<Nonce>('POST', '/v1/auth/nonce', { address }),
  login: (message: string, signature: string) => call<Login>('POST', '/v1/auth/login', { message, signature }),
  buy: (filmId: number, quality: string, buyer: string) =>
    call<PurchaseCreated>('POST', '/v1/purchases', { film_id: filmId, quality, buyer_address: buyer }),
  pay: (purchaseId: string, paymentMethod: string, clientSecret: string) =>
    call<PaymentResult>('POST', `/v1/purchases/${purchaseId}/payment-method`, {
      payment_method: paymentMethod,
      client_secret: clientSecret,
    }),
  purchase: (id: string) => call<Purchase>('GET', `/v1/purchases/${id}`),
  /** Every film of a studio (the pages followed). */
  studioFilms: async (studioId: number): Promise<Page<Film>> => {
    const items: Film[] = [];
    let cursor: string | null = null;
    do {
      const page: Page<Film> = await call<Page<Film>>(
        'GET',
        `/v1/films?limit=100&studio_id=${studioId}` + (cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''),
      );
      items.push(...page.items);
      cursor = page.next_cursor;
    } while (cursor);
    return { items, next_cursor: null };
  },
  registerStudio: (token: string, name: string, royaltyAddress: string) =>
    call<StudioCreated>('POST', '/v1/studios', { name, royalty_address: royaltyAddress }, token),
  registerFilm: (token: string, studioId: number, title: string, year: number, editions: { quality: string; price_cents: number }[]) =>
    call<FilmCreated>('POST', `/v1/studios/${studioId}/films`, { title, year, editions }, token),
  setEditionActive: (token: string, editionId: string, active: boolean) =>
    call<EditionStatus>('POST', `/v1/editions/${editionId}/${active ? 'reactivate' : 'withdraw'}`, undefined, token),
  editionContent: (filmId: number, quality: string) => call<EditionContent>('GET', `/v1/editions/${filmId}-${quality}/content`),
  /** The edition key of a licence, ECIES-wrapped to the signed-in owner's key. */
  releaseKey: <T>(token: string, licenceId: string) => call<T>('POST', `/v1/licences/${licenceId}/key`, undefined, token),
  /** The signed certificate for offline play. */
  certificate: <T>(token: string, licenceId: string) => call<T>('GET', `/v1/licences/${licenceId}/certificate`, undefined, token),
  statement: (studioId: number, from: string, to: string) =>
    call<Statement>('GET', `/v1/studios/${studioId}/statement${period(from, to)}`),
  // The operator console (platform admins only).
  adminFloat: (token: string, limit: number) => call<FloatView>('GET', `/v1/admin/float?limit=${limit}`, undefined, token),
  adminAlerts: (token: string, limit: number) => call<AlertView[]>('GET', `/v1/admin/alerts?limit=${limit}`, undefined, token),
  adminJobs: (token: string, state: JobState, limit: number) =>
    call<JobView[]>('GET', `/v1/admin/jobs?state=${state}&limit=${limit}`, undefined, token),
  retryJob: (token: string, jobId: number, reason: string) =>
    call<ActionQueued>('POST', `/v1/admin/jobs/${jobId}/retry`, { reason }, token),
  failedRefunds: (token: string, limit: number) => call<FailedRefund[]>('GET', `/v1/admin/refunds/failed?limit=${limit}`, undefined, token),
  refundPurchase: (token: string, purchaseId: string, reason: string) =>
    call<ActionQueued>('POST', `/v1/admin/purchases/${encodeURIComponent(purchaseId)}/refund`, { reason }, token),
  /** `from` and `to` are UTC days (`YYYY-MM-DD`), both included. */
  reconciliation: (token: string, from: string, to: string) =>
    call<ReconciliationReport>('GET', `/v1/admin/reconciliation?from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}`, undefined, token),
};

/** The API's error reply as an `ApiError` (for requests not made through `call`). */
export function apiError(status: number, text: string): ApiError {
  let err: { code?: string; message?: string } | undefined;
  try {
    err = (JSON.parse(text) as { error?: { code?: string; message?: string } }).error;
  } catch {
    /* not JSON */
  }
  return new ApiError(status, err?.code ?? 'http_' + status, err?.message ?? `Request failed (${status}).`);
}

export function money(cents: number, currency = 'eur'): string {
  return new Intl.NumberFormat('en-IE', { style: 'currency', currency: currency.toUpperCase() }).format(cents / 100);
}

export function short(addr: string): string {
  return addr.length > 12 ? `${addr.slice(0, 6)}…${addr.slice(-4)}` : addr;
}
