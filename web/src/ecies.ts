// ECIES unwrap of a released edition key (the API's `POST /v1/licences/{id}/key`), the browser
// side of `tangible_crypto::ecies` (crates/crypto/src/ecies.rs, FORMAT.md "Key wrapping"):
// ECDH on secp256k1 with the ephemeral public key (shared secret = x-coordinate), HKDF-SHA256
// with no salt and info = "tangible/ecies/v1" ‖ licence id (32 B) ‖ film id (8 B) ‖ quality (1 B)
// ‖ chain id (8 B) ‖ ephemeral public key (33 B, compressed) ‖ recipient public key (33 B,
// compressed), big-endian; then AES-256-GCM (WebCrypto) with the 12-byte nonce, no associated
// data. The unwrapped key is returned to the caller, to be kept in memory only.
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { concatBytes, hexToBytes, utf8ToBytes } from '@noble/hashes/utils.js';

export const ECIES_VERSION = 1;
const LABEL = utf8ToBytes('tangible/ecies/v1');

export interface WrappedKey {
  version: number;
  ephemeral_public_key: string;
  nonce: string;
  ciphertext: string;
}
/** Integers as bigint or decimal strings (a licence id is 256 bits). */
export interface KeyReleaseContext {
  licence_id: bigint | string;
  film_id: bigint | string | number;
  quality: number;
  chain_id: bigint | string | number;
}

export class UnwrapError extends Error {}

const hex = (s: string) => hexToBytes(s.replace(/^0x/, ''));

function be(v: bigint, bytes: number): Uint8Array {
  if (v < 0n || v >= 1n << BigInt(bytes * 8)) throw new UnwrapError(`value out of range for ${bytes} bytes`);
  const out = new Uint8Array(bytes);
  for (let i = bytes - 1; i >= 0; i--, v >>= 8n) out[i] = Number(v & 0xffn);
  return out;
}

export function hkdfInfo(ctx: KeyReleaseContext, ephemeral: Uint8Array, recipient: Uint8Array): Uint8Array {
  if (!Number.isInteger(ctx.quality) || ctx.quality < 0 || ctx.quality > 255) throw new UnwrapError('quality out of range');
  return concatBytes(
    LABEL,
    be(BigInt(ctx.licence_id), 32),
    be(BigInt(ctx.film_id), 8),
    Uint8Array.of(ctx.quality),
    be(BigInt(ctx.chain_id), 8),
    ephemeral,
    recipient,
  );
}

/** Unwraps `wrapped` with the owner's secret key for the licence `ctx`; throws `UnwrapError`. */
export async function unwrapKey(wrapped: WrappedKey, secretKey: Uint8Array, ctx: KeyReleaseContext): Promise<Uint8Array> {
  if (wrapped.version !== ECIES_VERSION) throw new UnwrapError(`unsupported key wrapping version ${wrapped.version}`);
  const ephemeral = hex(wrapped.ephemeral_public_key);
  const nonce = hex(wrapped.nonce);
  const ciphertext = hex(wrapped.ciphertext);
  if (ephemeral.length !== 33) throw new UnwrapError('ephemeral public key must be 33 bytes');
  if (nonce.length !== 12) throw new UnwrapError('nonce must be 12 bytes');
  if (ciphertext.length !== 48) throw new UnwrapError('ciphertext must be 48 bytes');
  let shared: Uint8Array;
  try {
    shared = secp256k1.getSharedSecret(secretKey, ephemeral, true).slice(1);
  } catch {
    throw new UnwrapError('ephemeral public key is not a curve point');
  }
  const recipient = secp256k1.getPublicKey(secretKey, true);
  const okm = hkdf(sha256, shared, undefined, hkdfInfo(ctx, ephemeral, recipient), 32);
  shared.fill(0);
  const aes = await crypto.subtle.importKey('raw', okm, 'AES-GCM', false, ['decrypt']);
  okm.fill(0);
  try {
    return new Uint8Array(await crypto.subtle.decrypt({ name: 'AES-GCM', iv: nonce }, aes, ciphertext));
  } catch {
    throw new UnwrapError('cannot unwrap the key: it was wrapped for another key or licence, or altered');
  }
}
