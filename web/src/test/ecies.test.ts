// The browser's ECIES unwrap against keys wrapped by the Rust crate: the shared vectors written
// and checked by crates/crypto/tests/it/ecies_vectors.rs.
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';
import { describe, expect, it } from 'vitest';
import shared from '../../../crates/crypto/tests/vectors/ecies-v1.json';
import { UnwrapError, unwrapKey, type KeyReleaseContext, type WrappedKey } from '../ecies';

interface Vector {
  name: string;
  recipient_secret_key: string;
  context: { licence_id: string; film_id: string; quality: number; chain_id: string };
  wrapped: WrappedKey;
  opens: boolean;
  key: string | null;
}
const { scheme, vectors } = shared as { scheme: string; vectors: Vector[] };
const secret = (v: Vector) => hexToBytes(v.recipient_secret_key.replace(/^0x/, ''));

describe('ECIES unwrap (vectors from tangible_crypto::ecies::wrap_key)', () => {
  it('has vectors of both kinds', () => {
    expect(scheme).toBe('tangible/ecies/v1');
    expect(vectors.filter((v) => v.opens).length).toBeGreaterThanOrEqual(3);
    expect(vectors.filter((v) => !v.opens).length).toBeGreaterThanOrEqual(3);
  });
  for (const v of vectors) {
    it(`${v.name}: ${v.opens ? 'opens to its key' : 'is refused'}`, async () => {
      const ctx: KeyReleaseContext = v.context;
      if (v.opens) expect('0x' + bytesToHex(await unwrapKey(v.wrapped, secret(v), ctx))).toBe(v.key);
      else await expect(unwrapKey(v.wrapped, secret(v), ctx)).rejects.toThrow(UnwrapError);
    });
  }
  it('refuses an unknown version and a truncated ciphertext', async () => {
    const v = vectors.find((x) => x.opens);
    if (!v) throw new Error('no vector');
    await expect(unwrapKey({ ...v.wrapped, version: 2 }, secret(v), v.context)).rejects.toThrow('unsupported');
    await expect(unwrapKey({ ...v.wrapped, ciphertext: v.wrapped.ciphertext.slice(0, -2) }, secret(v), v.context)).rejects.toThrow('48 bytes');
  });
});
