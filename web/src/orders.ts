// Signed orders (EIP-712): what an account signs so that Tangible's operator can send the
// transaction for it, and the account needs no ETH. Resale orders list, reprice or cancel an
// offer; credit orders buy an edition or an offer with the account's credit, or withdraw it.
// The types and the domain are the market's (`TangibleOffers`, as crates/chain/src/orders.rs
// writes them); the contract checks the signature, the nonce and the deadline again.
import { getAddress } from 'viem';
import { api, ApiError, type PublicConfig, type SignedPart } from './api';
import type { Session } from './wallet';

export const ORDER_TYPES = {
  Order: [
    { name: 'seller', type: 'address' },
    { name: 'action', type: 'uint8' },
    { name: 'target', type: 'uint256' },
    { name: 'priceCents', type: 'uint64' },
    { name: 'nonce', type: 'uint32' },
    { name: 'deadline', type: 'uint256' },
  ],
} as const;

export const CREDIT_ORDER_TYPES = {
  CreditOrder: [
    { name: 'account', type: 'address' },
    { name: 'action', type: 'uint8' },
    { name: 'target', type: 'uint256' },
    { name: 'amountCents', type: 'uint64' },
    { name: 'to', type: 'address' },
    { name: 'nonce', type: 'uint32' },
    { name: 'deadline', type: 'uint256' },
  ],
} as const;

/** The market's action codes (`relayOrder` 0–2, `relayCreditOrder` 3–5). */
const ACTION = { list: 0, reprice: 1, cancel: 2, buyEdition: 3, buyOffer: 4, withdraw: 5 } as const;
export type ResaleAction = 'list' | 'reprice' | 'cancel';
export type CreditAction = 'buyEdition' | 'buyOffer' | 'withdraw';

/** On-chain quality codes (`Quality::code`). */
const QUALITY_CODE: Record<string, number> = { sd: 0, hd: 1, '4k': 2 };

/**
 * Seconds an order stays valid after the chain's current time: enough for the operator to send
 * it, short so that an order the chain refused (too little credit, say) does not linger.
 */
const VALIDITY_SECS = 15 * 60;

function domain(config: PublicConfig) {
  return {
    name: 'Tangible',
    version: '1',
    chainId: config.chain_id,
    verifyingContract: getAddress(config.deployment.contracts.market),
  } as const;
}

/** The target of a primary purchase: `filmId << 8 | quality code`. */
export function editionTarget(filmId: number, quality: string): bigint {
  const code = QUALITY_CODE[quality];
  if (code === undefined) throw new Error(`Unknown quality ${quality}.`);
  return (BigInt(filmId) << 8n) | BigInt(code);
}

/** Signs an order with the nonce and deadline it is given. */
export type OrderSigner = (nonce: number, deadline: number) => Promise<`0x${string}`>;

/**
 * A resale order of the session's account: `target` is the licence (list) or the offer
 * (reprice, cancel); a cancel's price is 0.
 */
export function resaleOrder(
  session: Session,
  config: PublicConfig,
  action: ResaleAction,
  target: string,
  priceCents: number,
): OrderSigner {
  return (nonce, deadline) =>
    session.signTypedData({
      domain: domain(config),
      types: ORDER_TYPES,
      primaryType: 'Order',
      message: {
        seller: session.address,
        action: ACTION[action],
        target: BigInt(target),
        priceCents: BigInt(priceCents),
        nonce,
        deadline: BigInt(deadline),
      },
    });
}

/**
 * A credit order of the session's account: a purchase (`target` the edition's or the offer's,
 * `amountCents` its price, the licence to `to`, by default the account itself) or a withdrawal
 * (`amountCents` to `to`).
 */
export function creditOrder(
  session: Session,
  config: PublicConfig,
  action: CreditAction,
  target: bigint,
  amountCents: number,
  to: string = session.address,
): OrderSigner {
  return (nonce, deadline) =>
    session.signTypedData({
      domain: domain(config),
      types: CREDIT_ORDER_TYPES,
      primaryType: 'CreditOrder',
      message: {
        account: session.address,
        action: ACTION[action],
        target,
        amountCents: BigInt(amountCents),
        to: getAddress(to),
        nonce,
        deadline: BigInt(deadline),
      },
    });
}

/** An order posted whose outcome is unknown: its nonce, and its deadline (chain time) after which it can no longer run. */
export interface Unsettled {
  nonce: number;
  deadline: number;
}

/**
 * Per account: the order posted whose outcome is unknown, kept in localStorage (so a reload or
 * another tab knows it too; nothing secret), in memory where there is none or it refuses.
 */
const notes = {
  memory: new Map<string, Unsettled>(),
  key: (who: string) => `tangible:unsettled-order:${who.toLowerCase()}`,
  get(who: string): Unsettled | null {
    try {
      const v = globalThis.localStorage?.getItem(this.key(who));
      if (v !== undefined && v !== null) {
        const u = JSON.parse(v) as Partial<Unsettled>;
        if (typeof u.nonce === 'number' && typeof u.deadline === 'number') return { nonce: u.nonce, deadline: u.deadline };
      }
    } catch {
      /* storage refused or a malformed value: memory below */
    }
    // Also where a write fell back to memory (storage full, or refused).
    return this.memory.get(who.toLowerCase()) ?? null;
  },
  set(who: string, u: Unsettled | null) {
    try {
      if (globalThis.localStorage) {
        if (u === null) globalThis.localStorage.removeItem(this.key(who));
        else globalThis.localStorage.setItem(this.key(who), JSON.stringify(u));
        return;
      }
    } catch {
      /* storage refused: memory below */
    }
    if (u === null) this.memory.delete(who.toLowerCase());
    else this.memory.set(who.toLowerCase(), u);
  },
};

/** What the note of `address` says against the account's nonce and the chain's clock. */
export type NoteState = 'none' | 'unknown' | 'ran';

/**
 * Whether an order of `address` posted from this browser may still run (`unknown`: its nonce is
 * unspent and its deadline not passed), has been followed by an order that ran (`ran`: maybe
 * that one), or there is nothing to wait for (`none`; a note of an order past its deadline, which
 * can no longer run, is dropped).
 */
export function noteState(address: string, account: { order_nonce: number; chain_time: number }): NoteState {
  const u = notes.get(address);
  if (!u) return 'none';
  if (account.order_nonce > u.nonce) return 'ran';
  if (account.chain_time > u.deadline) {
    notes.set(address, null);
    return 'none';
  }
  return 'unknown';
}

/** Forgets the note of `address` once what it says has been told to the user. */
export function forgetUnsettled(address: string) {
  notes.set(address, null);
}

/**
 * Whether the API's answer `e` settles an order: a refusal before anything was sent. A network
 * failure, a 5xx (`transaction_pending` among them) or a copy of it in flight (`order_in_flight`)
 * leaves its outcome unknown: it may still run.
 */
export function settles(e: unknown): boolean {
  return e instanceof ApiError && e.status >= 400 && e.status < 500 && e.code !== 'order_in_flight';
}

/** Said when an order of the account ran since an attempt whose outcome was unknown. */
export const EARLIER_ORDER_RAN =
  'An order of this wallet was recorded on chain since an attempt whose outcome was unknown, and it may be that attempt: check your balance, history and library, and reload the page before trying again.';

/**
 * Signs an order with the account's next nonce (read at the chain's pending block) and a
 * deadline 15 minutes after the chain's clock, then `post`s it. A retry can never run an action
 * twice. Every order of an account shares one nonce sequence, so orders signed with the same
 * nonce run at most once together. When an attempt ends without a definitive answer, its nonce
 * is noted; later, a nonce that moved past it (or a retry refused for a spent nonce) means an
 * order ran, maybe that one: the retry stops and says so instead of signing a new nonce. The note
 * goes only when an order of this nonce succeeds or that is said.
 */
export async function sendOrder<T>(
  session: Session,
  sign: OrderSigner,
  post: (signed: SignedPart) => Promise<T>,
  onSending: () => void = () => {},
): Promise<T> {
  const who = session.address;
  const a = await api.account(who);
  const state = noteState(who, a);
  if (state === 'ran') {
    notes.set(who, null);
    throw new Error(EARLIER_ORDER_RAN);
  }
  const earlier = state === 'unknown' ? notes.get(who) : null;
  const deadline = a.chain_time + VALIDITY_SECS;
  const signed = { deadline, signature: await sign(a.order_nonce, deadline) };
  onSending();
  // Noted before it is posted: a reload or a closed tab while it is sent leaves it noted. Of
  // two attempts with one nonce, the later deadline bounds both.
  notes.set(who, { nonce: a.order_nonce, deadline: Math.max(deadline, earlier?.deadline ?? 0) });
  try {
    const r = await post(signed);
    notes.set(who, null);
    return r;
  } catch (e) {
    if (earlier && e instanceof ApiError && e.code === 'invalid_signature') {
      // Refused for its signature: because the earlier order spent the nonce meanwhile?
      const now = await api.account(who).catch(() => null);
      if (!now || now.order_nonce > earlier.nonce) {
        notes.set(who, null);
        throw new Error(EARLIER_ORDER_RAN, { cause: e });
      }
    }
    // Refused before anything was sent: the note is what it was (an earlier unknown attempt
    // may still run); otherwise this attempt's outcome is unknown too, and stays noted.
    if (settles(e)) notes.set(who, earlier);
    throw e;
  }
}
