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

export const api = {
  config: () => call<PublicConfig>('GET', '/v1/config'),
  films: (q: string) => call<Page<Film>>('GET', '/v1/films?limit=50' + (q ? '&q=' + encodeURIComponent(q) : '')),
  film: (id: number) => call<Film>('GET', `/v1/films/${id}`),
  offers: (filmId: number) => call<Page<Offer>>('GET', `/v1/offers?film_id=${filmId}&status=active`),
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
};

export function money(cents: number, currency = 'eur'): string {
  return new Intl.NumberFormat('en-IE', { style: 'currency', currency: currency.toUpperCase() }).format(cents / 100);
}

export function short(addr: string): string {
  return addr.length > 12 ? `${addr.slice(0, 6)}…${addr.slice(-4)}` : addr;
}
