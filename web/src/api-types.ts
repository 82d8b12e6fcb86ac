// The API's wire types: the JSON the /v1 calls of api.ts send and read (api.ts re-exports them,
// so `import { type Film } from '../api'` keeps working).

export interface Edition {
  edition_id: string;
  quality: string;
  price_cents: number;
  active: boolean;
  master_hash: string;
  /** Lowest resale price, cents, set by the studio (0: the market's minimum only). */
  resale_floor_cents: number;
  /** Tangible serves this edition's film: only then is it sold (new or resold) and played. */
  served: boolean;
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

/** The operator's transaction for a signed resale order (`POST`/`PATCH`/`DELETE /v1/offers`). */
export interface OrderRelayed {
  offer_id: string;
  seller_address: string;
  nonce: number;
  tx_hash: string;
}
/** `POST /v1/studios/{id}/withdrawals`: the studio's cleared earnings paid to its royalty recipient. */
export interface StudioWithdrawal {
  studio_id: number;
  to_address: string;
  amount_units: string;
  tx_hash: string;
}
/** The operator's transaction for a signed credit order (a purchase or a withdrawal). */
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

/** A share of a pending sale (`GET /v1/accounts/{address}`). */
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
