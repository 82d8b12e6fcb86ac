import { recoverTypedDataAddress } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ApiError, type PublicConfig, type SignedPart } from '../api';
import {
  CREDIT_ORDER_TYPES,
  EARLIER_ORDER_RAN,
  ORDER_TYPES,
  editionTarget,
  forgetUnsettled,
  resaleOrder,
  sendOrder,
  settles,
  noteState,
  type NoteState,
} from '../orders';
import { payeeProblem } from '../pages/Money';
import type { Session } from '../wallet';
import { resaleSplit } from '../market';
import source from '../../../contracts/src/TangibleOffers.sol?raw';

/** The EIP-712 type string of a struct, as `encodeType` writes it. */
const typeString = (name: string, fields: readonly { name: string; type: string }[]) =>
  `${name}(${fields.map((f) => `${f.type} ${f.name}`).join(',')})`;

describe('signed orders', () => {
  it('are the types the market hashes (contracts/src/TangibleOffers.sol)', () => {
    expect(source).toContain(`"${typeString('Order', ORDER_TYPES.Order)}"`);
    expect(source).toContain(`"${typeString('CreditOrder', CREDIT_ORDER_TYPES.CreditOrder)}"`);
  });

  it('name an edition as filmId << 8 | quality code', () => {
    expect(editionTarget(1, 'sd')).toBe(256n);
    expect(editionTarget(1, 'hd')).toBe(257n);
    expect(editionTarget(0xffffff, '4k')).toBe((0xffffffn << 8n) | 2n);
    expect(() => editionTarget(1, '8k')).toThrow(/Unknown quality/);
  });

  it('recover to the signer only for the same domain', async () => {
    const account = privateKeyToAccount('0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d');
    const domain = { name: 'Tangible', version: '1', chainId: 31337, verifyingContract: '0x5FbDB2315678afecb367f032d93F642f64180aa3' } as const;
    const message = { seller: account.address, action: 0, target: 7n, priceCents: 900n, nonce: 0, deadline: 1_900_000_000n };
    const signature = await account.signTypedData({ domain, types: ORDER_TYPES, primaryType: 'Order', message });
    const recover = (d: typeof domain | { chainId: number }) =>
      recoverTypedDataAddress({ domain: { ...domain, ...d }, types: ORDER_TYPES, primaryType: 'Order', message, signature });
    expect(await recover(domain)).toBe(account.address);
    expect(await recover({ chainId: 1 })).not.toBe(account.address);
  });
});

describe('resale split', () => {
  it('rounds the fees down and gives the seller the rest, as SplitLib.resale', () => {
    expect(resaleSplit(750)).toEqual({ seller: 601, studio: 112, platform: 37 });
    expect(resaleSplit(2000)).toEqual({ seller: 1600, studio: 300, platform: 100 });
    expect(resaleSplit(20)).toEqual({ seller: 16, studio: 3, platform: 1 });
    for (const p of [20, 21, 99, 12345, 99_999_999]) {
      const s = resaleSplit(p);
      expect(s.seller + s.studio + s.platform).toBe(p);
    }
  });
});

describe('sending signed orders', () => {
  const address = '0x70997970C51812dc3A010C7d01b50e0d17dc79C8';
  let nonce = 0;
  const signatures: number[] = [];
  const session = {
    address,
    signTypedData: async (d: { message: { nonce: number } }) => {
      signatures.push(d.message.nonce);
      return '0x01';
    },
  } as unknown as Session;
  const config = { chain_id: 31337, deployment: { contracts: { market: '0x5FbDB2315678afecb367f032d93F642f64180aa3' } } } as PublicConfig;
  beforeEach(() => {
    signatures.length = 0;
    forgetUnsettled(address);
    vi.stubGlobal('fetch', async () => new Response(JSON.stringify({ order_nonce: nonce, chain_time: 1_000 }), { status: 200 }));
  });
  afterEach(() => vi.unstubAllGlobals());
  const order = () => resaleOrder(session, config, 'list', '7', 900);
  const lost = () => Promise.reject(new ApiError(0, 'network', 'The server cannot be reached.'));

  it('sign with the nonce and a deadline from the chain, and post once', async () => {
    nonce = 4;
    const posted: SignedPart[] = [];
    const r = await sendOrder(session, order(), async (s) => (posted.push(s), 'done'));
    expect(r).toBe('done');
    expect(signatures).toEqual([4]);
    expect(posted).toEqual([{ deadline: 1_000 + 15 * 60, signature: '0x01' }]);
  });

  it('stop a retry when an order ran after an attempt whose outcome is unknown', async () => {
    nonce = 5;
    await expect(sendOrder(session, order(), lost)).rejects.toThrow('cannot be reached');
    nonce = 6; // the lost attempt ran after all
    await expect(sendOrder(session, order(), async () => 'twice')).rejects.toThrow(EARLIER_ORDER_RAN);
    expect(signatures).toEqual([5]);
    // Said once: the next attempt is a new order.
    await expect(sendOrder(session, order(), async () => 'new')).resolves.toBe('new');
    expect(signatures).toEqual([5, 6]);
  });

  it('retry with the same nonce when the unknown attempt has not run', async () => {
    nonce = 8;
    await expect(sendOrder(session, order(), lost)).rejects.toThrow();
    await expect(sendOrder(session, order(), async () => 'ok')).resolves.toBe('ok');
    expect(signatures).toEqual([8, 8]);
  });

  it('a retry refused for a spent nonce means the unknown attempt ran', async () => {
    nonce = 20;
    await expect(sendOrder(session, order(), lost)).rejects.toThrow();
    // The nonce still reads 20 when the retry is signed; the earlier transaction is mined before
    // the retry reaches the API, which refuses it.
    const spent = () => {
      nonce = 21;
      return Promise.reject(new ApiError(422, 'invalid_signature', 'nonce used'));
    };
    await expect(sendOrder(session, order(), spent)).rejects.toThrow(EARLIER_ORDER_RAN);
  });

  it('a retry refused for its signature alone is not taken for the earlier attempt', async () => {
    nonce = 25;
    await expect(sendOrder(session, order(), lost)).rejects.toThrow();
    const forged = () => Promise.reject(new ApiError(422, 'invalid_signature', 'not the account'));
    await expect(sendOrder(session, order(), forged)).rejects.toThrow('not the account');
    expect(noteState(address, { order_nonce: 25, chain_time: 1_000 })).toBe('unknown');
  });

  it('note an attempt before it is posted (a reload while it is sent)', async () => {
    nonce = 27;
    let noted: NoteState = 'none';
    await sendOrder(session, order(), async () => {
      noted = noteState(address, { order_nonce: 27, chain_time: 1_000 });
      return 'ok';
    });
    expect(noted).toBe('unknown');
    expect(noteState(address, { order_nonce: 27, chain_time: 1_000 })).toBe('none');
  });

  it('an unknown attempt past its deadline can no longer run: its note is dropped', async () => {
    nonce = 28;
    await expect(sendOrder(session, order(), lost)).rejects.toThrow();
    expect(noteState(address, { order_nonce: 28, chain_time: 1_000 + 15 * 60 })).toBe('unknown');
    expect(noteState(address, { order_nonce: 28, chain_time: 1_001 + 15 * 60 })).toBe('none');
    expect(noteState(address, { order_nonce: 28, chain_time: 1_000 })).toBe('none');
  });

  it('keep the note of an unknown attempt through a retry refused for another reason', async () => {
    nonce = 30;
    await expect(sendOrder(session, order(), lost)).rejects.toThrow();
    const poor = () => Promise.reject(new ApiError(409, 'insufficient_credit', 'not enough'));
    await expect(sendOrder(session, order(), poor)).rejects.toThrow('not enough');
    nonce = 31; // the first attempt ran after all
    await expect(sendOrder(session, order(), async () => 'again')).rejects.toThrow(EARLIER_ORDER_RAN);
  });

  it('a refusal settles the attempt, and an identical order in flight does not', async () => {
    nonce = 10;
    const refused = () => Promise.reject(new ApiError(409, 'insufficient_credit', 'no'));
    await expect(sendOrder(session, order(), refused)).rejects.toThrow('no');
    nonce = 11; // another order of the wallet ran: nothing to warn about
    await expect(sendOrder(session, order(), async () => 'ok')).resolves.toBe('ok');
    expect(settles(new ApiError(409, 'order_in_flight', ''))).toBe(false);
    expect(settles(new ApiError(503, 'transaction_pending', ''))).toBe(false);
    expect(settles(new ApiError(422, 'invalid_signature', ''))).toBe(true);
  });
});

describe('withdrawal addresses', () => {
  const config = {
    deployment: { contracts: { market: '0x5FbDB2315678afecb367f032d93F642f64180aa3', stablecoin: '0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512' } },
  } as unknown as PublicConfig;
  it('refuse a mistyped checksum, the zero address and Tangible contracts', () => {
    expect(payeeProblem('0x70997970C51812dc3A010C7d01b50e0d17dc79C8', config)).toBeNull();
    expect(payeeProblem('0x70997970c51812dc3a010c7d01b50e0d17dc79c8', config)).toBeNull();
    expect(payeeProblem('0x70997970C51812dc3A010C7d01b50e0d17dc79c8', config)).toMatch(/checksum/);
    expect(payeeProblem('0x1234', config)).toMatch(/Enter an address/);
    expect(payeeProblem('0x0000000000000000000000000000000000000000', config)).toMatch(/zero/);
    expect(payeeProblem('0xe7f1725e7734ce288f8367e1bb143e90bb3f0512', config)).toMatch(/contracts/);
  });
});
