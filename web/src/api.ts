// The API client: typed calls to /v1, errors carrying the API's code and message. The wire types
// are in api-types.ts, re-exported here.
import type {
  AccountView,
  ActionQueued,
  AlertView,
  CatalogueFilters,
  CreditOrderRelayed,
  EditionContent,
  EditionStatus,
  FailedRefund,
  Film,
  FilmCreated,
  FloatView,
  JobState,
  JobView,
  Licence,
  Login,
  Nonce,
  Offer,
  OrderRelayed,
  Page,
  PaymentResult,
  PublicConfig,
  Purchase,
  PurchaseCreated,
  ReconciliationReport,
  ResaleFloor,
  Sale,
  SignedPart,
  Statement,
  StudioApplication,
  StudioApplicationState,
  StudioCreated,
  StudioRegistration,
  StudioWithdrawal,
} from './api-types';

export type * from './api-types';

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

export const STUDIO_APPLICATION_STATES: readonly StudioApplicationState[] = ['pending', 'registering', 'approved', 'rejected'];

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
