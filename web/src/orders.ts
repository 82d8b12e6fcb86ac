// Signed orders (EIP-712): what an account signs so that Tangible's operator can send the
// transaction for it, and the account needs no ETH. Resale orders list, reprice or cancel an
// offer; credit orders buy an edition or an offer with the account's credit, or withdraw it.
// The types and the domain are the market's (`TangibleOffers`, as crates/chain/src/orders.rs
// writes them); the contract checks the signature, the nonce and the deadline again.
import { getAddress } from 'viem';
import { api, type PublicConfig, type SignedPart } from './api';
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

/** The account's next order nonce and a deadline, both from the chain (through the API). */
async function nonceAndDeadline(address: string): Promise<{ nonce: number; deadline: number }> {
  const a = await api.account(address);
  return { nonce: a.order_nonce, deadline: a.chain_time + VALIDITY_SECS };
}

/** The target of a primary purchase: `filmId << 8 | quality code`. */
export function editionTarget(filmId: number, quality: string): bigint {
  const code = QUALITY_CODE[quality];
  if (code === undefined) throw new Error(`Unknown quality ${quality}.`);
  return (BigInt(filmId) << 8n) | BigInt(code);
}

/**
 * Signs a resale order of the session's account: `target` is the licence (list) or the offer
 * (reprice, cancel); a cancel's price is 0.
 */
export async function signResaleOrder(
  session: Session,
  config: PublicConfig,
  action: ResaleAction,
  target: string,
  priceCents: number,
): Promise<SignedPart> {
  const { nonce, deadline } = await nonceAndDeadline(session.address);
  const signature = await session.signTypedData({
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
  return { deadline, signature };
}

/**
 * Signs a credit order of the session's account: a purchase (`target` the edition's or the
 * offer's, `amountCents` its price, the licence to `to`, by default the account itself) or a withdrawal
 * (`amountCents` to `to`).
 */
export async function signCreditOrder(
  session: Session,
  config: PublicConfig,
  action: CreditAction,
  target: bigint,
  amountCents: number,
  to: string = session.address,
): Promise<SignedPart> {
  const { nonce, deadline } = await nonceAndDeadline(session.address);
  const signature = await session.signTypedData({
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
  return { deadline, signature };
}
