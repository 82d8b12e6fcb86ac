import { recoverTypedDataAddress } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { describe, expect, it } from 'vitest';
import { CREDIT_ORDER_TYPES, ORDER_TYPES, editionTarget } from '../orders';
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
