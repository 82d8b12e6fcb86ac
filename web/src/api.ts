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
  /** Lowest resale price, cents, set by the studio (0: the market's minimum only). */
  resale_floor_cents: number;
}
export interface Film {
  film_id: number;
  studio_id: number;
  studio_name: string;
  title: string;
  year: number;
  editions: Edition[];
}
export interface CatalogueFilters {
  quality?: string;
  maxPrice?: number;
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
  /** Active but under its edition's resale floor, raised since the listing: not buyable until repriced. */
  below_floor: boolean;
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
  /** The deployment: the market's address is the EIP-712 domain of signed orders. */
  deployment: { contracts: { market: string } & Record<string, string> };
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

/** A request to the API: its status and its JSON (`null` when empty); an error reply is thrown. */
async function request(method: string, path: string, body?: unknown, token?: string): Promise<{ status: number; json: unknown }> {
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
  return { status: res.status, json };
}

async function call<T>(method: string, path: string, body?: unknown, token?: string): Promise<T> {
  return (await request(method, path, body, token)).json as T;
}

export interface StudioCreated {
  studio_id: number;
  name: string;
  admin_address: string;
  royalty_address: string;
  commission_bps: number;
  tx_hash: string;
}
/** Where a studio application stands: `registering` while its approval is sent to the chain. */
export type StudioApplicationState = 'pending' | 'registering' | 'approved' | 'rejected';
export const STUDIO_APPLICATION_STATES: readonly StudioApplicationState[] = ['pending', 'registering', 'approved', 'rejected'];
/** A wallet's request for a studio, which a platform admin approves (the studio is registered
 *  on chain, the applicant its admin) or rejects, with a reason the applicant sees. */
export interface StudioApplication {
  application_id: number;
  state: StudioApplicationState;
  name: string;
  admin_address: string;
  royalty_address: string;
  /** RFC 3339. */
  applied_at: string;
  decided_by: string | null;
  decided_at: string | null;
  reason: string | null;
  studio_id: number | null;
  tx_hash: string | null;
}
/** What `POST /v1/studios` did: registered at once (a platform admin's call, 201), or recorded
 *  an application a platform admin must approve (anyone else's, 202). */
export type StudioRegistration = { kind: 'created'; studio: StudioCreated } | { kind: 'application'; application: StudioApplication };

/** An answer not shaped as the API documents it (a proxy's page, another API version). */
function unexpected(status: number, what: string): ApiError {
  return new ApiError(status, 'unexpected_reply', `The server's answer is not ${what} (status ${status}).`);
}
const isId = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const isText = (v: unknown): v is string => typeof v === 'string';
const isList = (v: unknown): v is unknown[] => Array.isArray(v);
const isInstant = (v: unknown): v is string => isText(v) && !Number.isNaN(Date.parse(v));
const isApplicationState = (v: unknown): v is StudioApplicationState =>
  isText(v) && (STUDIO_APPLICATION_STATES as readonly string[]).includes(v);
const orNull =
  <T,>(f: (v: unknown) => v is T) =>
  (v: unknown): v is T | null =>
    v === null || f(v);

/** The fields of a JSON object, each read with its check; `fail` is thrown at the first miss. */
function fields(v: unknown, fail: () => ApiError) {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw fail();
  const o = v as Record<string, unknown>;
  return <T,>(key: string, check: (x: unknown) => x is T): T => {
    const x = o[key];
    if (!check(x)) throw fail();
    return x;
  };
}

/** A studio application from the API's JSON (`status` names the reply in the error), checked. */
export function parseStudioApplication(v: unknown, status = 200): StudioApplication {
  const f = fields(v, () => unexpected(status, 'a studio application'));
  return {
    application_id: f('application_id', isId),
    state: f('state', isApplicationState),
    name: f('name', isText),
    admin_address: f('admin_address', isText),
    royalty_address: f('royalty_address', isText),
    applied_at: f('applied_at', isInstant),
    decided_by: f('decided_by', orNull(isText)),
    decided_at: f('decided_at', orNull(isInstant)),
    reason: f('reason', orNull(isText)),
    studio_id: f('studio_id', orNull(isId)),
    tx_hash: f('tx_hash', orNull(isText)),
  };
}

/** A registered studio from the API's JSON, checked. */
export function parseStudioCreated(v: unknown, status = 201): StudioCreated {
  const f = fields(v, () => unexpected(status, 'a registered studio'));
  return {
    studio_id: f('studio_id', isId),
    name: f('name', isText),
    admin_address: f('admin_address', isText),
    royalty_address: f('royalty_address', isText),
    commission_bps: f('commission_bps', isId),
    tx_hash: f('tx_hash', isText),
  };
}

/** `POST /v1/studios`'s answer by its status: 202 an application, 201 (or 200) the studio. */
export function parseStudioRegistration(status: number, json: unknown): StudioRegistration {
  if (status === 202) return { kind: 'application', application: parseStudioApplication(json, status) };
  return { kind: 'created', studio: parseStudioCreated(json, status) };
}

/** `GET /v1/studios/applications`' answer, checked. */
export function parseStudioApplications(json: unknown, status = 200): StudioApplication[] {
  const list = fields(json, () => unexpected(status, 'a list of studio applications'))('applications', isList);
  return list.map((a) => parseStudioApplication(a, status));
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
export interface ResaleFloor {
  edition_id: string;
  floor_cents: number;
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
export type FloatMovementKind = 'deposit' | 'withdrawal' | 'card_settlement' | 'clawback';
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
  /** The market's daily limit on card settlements, cents, and what was settled today (UTC). */
  daily_limit_cents: number;
  settled_today_cents: number;
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

/** A share of a pending sale (`GET /v1/accounts/{address}`). */
/** The operator's transaction for a signed resale order (`POST`/`PATCH`/`DELETE /v1/offers`). */
export interface OrderRelayed {
  offer_id: string;
  seller_address: string;
  nonce: number;
  tx_hash: string;
}
/** The operator's transaction for a signed credit order (a purchase or a withdrawal). */
/** `POST /v1/studios/{id}/withdrawals`: the studio's cleared earnings paid to its royalty recipient. */
export interface StudioWithdrawal {
  studio_id: number;
  to_address: string;
  amount_units: string;
  tx_hash: string;
}
export interface CreditOrderRelayed {
  account_address: string;
  /** The licence minted (purchases). */
  licence_id: string | null;
  amount_units: string;
  nonce: number;
  tx_hash: string;
}
/** What every signed order carries besides its terms: its deadline (chain time) and signature. */
export interface SignedPart {
  deadline: number;
  signature: string;
}

export interface PendingShare {
  licence_id: string;
  role: 'seller' | 'studio' | 'platform';
  cents: number;
  /** Unix seconds, chain time. */
  clear_at: number;
  tainted: boolean;
}
/** An account's money on the market: amounts in stablecoin units (decimal strings) unless `_cents`. */
export interface AccountView {
  address: string;
  credit_units: string;
  units_per_cent: string;
  /** The nonce the account's next signed order (resale or credit) must carry. */
  order_nonce: number;
  /** The chain's clock (Unix seconds): signed orders' deadlines are measured against it. */
  chain_time: number;
  pending_cents: number;
  pending: PendingShare[];
  history: { kind: string; amount_units: string; pending: boolean; licence_id: string | null; to_address: string | null; tx_hash: string; block_number: number }[];
}

/** Whole cents of a stablecoin amount (`units` and `perCent` decimal strings), rounded down. */
export function unitsToCents(units: string, perCent: string): number {
  const per = BigInt(perCent || '1') || 1n;
  return Number(BigInt(units) / per);
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
  /** The catalogue: a title search, and films with an edition on sale of `quality` and at most `maxPrice` cents. */
  films: (q: string, filters: CatalogueFilters = {}) => {
    const p = new URLSearchParams({ limit: '50' });
    if (q) p.set('q', q);
    if (filters.quality) p.set('quality', filters.quality);
    if (filters.maxPrice !== undefined) p.set('max_price', String(filters.maxPrice));
    return call<Page<Film>>('GET', `/v1/films?${p}`);
  },
  film: (id: number) => call<Film>('GET', `/v1/films/${id}`),
  /** A film's resale offers with `status` (`active`, `filled`, …), every page. */
  offers: (filmId: number, status: 'active' | 'filled' = 'active') => every<Offer>(`/v1/offers?film_id=${filmId}&status=${status}`),
  /** A film's resales (sales of `kind` resale), every page, in event order. */
  resales: (filmId: number) => every<Sale>(`/v1/sales?film_id=${filmId}&kind=resale`),
  /** Starts a card purchase of a resale offer: the API prices it from the chain. */
  buyOffer: (offerId: string, buyer: string) =>
    call<PurchaseCreated>('POST', `/v1/offers/${encodeURIComponent(offerId)}/purchases`, { buyer_address: buyer }),
  licences: (owner: string) => call<Page<Licence>>('GET', `/v1/licences?owner=${encodeURIComponent(owner)}`),
  account: (address: string) => call<AccountView>('GET', `/v1/accounts/${encodeURIComponent(address)}`),
  // Signed orders, relayed by the operator (the account needs no ETH).
  listOffer: (seller: string, licenceId: string, priceCents: number, signed: SignedPart) =>
    call<OrderRelayed>('POST', '/v1/offers', { seller_address: seller, licence_id: licenceId, price_cents: priceCents, ...signed }),
  repriceOffer: (seller: string, offerId: string, priceCents: number, signed: SignedPart) =>
    call<OrderRelayed>('PATCH', `/v1/offers/${encodeURIComponent(offerId)}`, { seller_address: seller, price_cents: priceCents, ...signed }),
  cancelOffer: (seller: string, offerId: string, signed: SignedPart) =>
    call<OrderRelayed>('DELETE', `/v1/offers/${encodeURIComponent(offerId)}`, { seller_address: seller, ...signed }),
  /** Buys an edition (`{ edition_id: '<film>-<quality>' }`) or an offer (`{ offer_id }`) with the account's credit. */
  creditPurchase: (account: string, what: { edition_id: string } | { offer_id: string }, priceCents: number, signed: SignedPart) =>
    call<CreditOrderRelayed>('POST', `/v1/accounts/${encodeURIComponent(account)}/purchases`, { ...what, price_cents: priceCents, ...signed }),
  /** Pays the studio's cleared earnings to its royalty recipient (the studio admin's call; the operator pays the gas). */
  studioWithdraw: (token: string, studioId: number) =>
    call<StudioWithdrawal>('POST', `/v1/studios/${studioId}/withdrawals`, {}, token),
  withdrawCredit: (account: string, to: string, amountCents: number, signed: SignedPart) =>
    call<CreditOrderRelayed>('POST', `/v1/accounts/${encodeURIComponent(account)}/withdrawals`, {
      to_address: to,
      amount_cents: amountCents,
      ...signed,
    }),
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
  /** A platform admin's call registers the studio at once; anyone else's is an application
   *  (409 `application_pending` when the caller's previous one still waits). */
  registerStudio: async (token: string, name: string, royaltyAddress: string): Promise<StudioRegistration> => {
    const r = await request('POST', '/v1/studios', { name, royalty_address: royaltyAddress }, token);
    return parseStudioRegistration(r.status, r.json);
  },
  /** Studio applications (pending ones oldest first, others latest first; at most 200): everyone's for a platform admin, the
   *  caller's own for anyone else; only those in `state` if given. */
  studioApplications: async (token: string, state?: StudioApplicationState): Promise<StudioApplication[]> => {
    const r = await request('GET', '/v1/studios/applications' + (state ? `?state=${state}` : ''), undefined, token);
    return parseStudioApplications(r.json, r.status);
  },
  registerFilm: (token: string, studioId: number, title: string, year: number, editions: { quality: string; price_cents: number }[]) =>
    call<FilmCreated>('POST', `/v1/studios/${studioId}/films`, { title, year, editions }, token),
  /** Sets the lowest price a licence of the edition can be resold at (at most half its lowest price; 0: none). */
  setResaleFloor: (token: string, editionId: string, floorCents: number) =>
    call<ResaleFloor>('PUT', `/v1/editions/${editionId}/resale-floor`, { floor_cents: floorCents }, token),
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
  /** Registers the applicant's studio on chain (a few seconds) and answers it `approved`. */
  approveStudioApplication: async (token: string, id: number, reason: string): Promise<StudioApplication> => {
    const r = await request('POST', `/v1/admin/studio-applications/${id}/approve`, { reason }, token);
    return parseStudioApplication(r.json, r.status);
  },
  rejectStudioApplication: async (token: string, id: number, reason: string): Promise<StudioApplication> => {
    const r = await request('POST', `/v1/admin/studio-applications/${id}/reject`, { reason }, token);
    return parseStudioApplication(r.json, r.status);
  },
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
