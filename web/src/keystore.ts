// Web3 Secret Storage v3 keystores (scrypt + AES-128-CTR + keccak-256 MAC), the format the
// CLI writes (`eth-keystore`, crates/crypto/src/wallet.rs): a file exported from one opens in
// the other. Stored in IndexedDB; the decrypted key lives in memory only.
import { equalBytes } from '@noble/curves/utils.js';
import { scryptAsync } from '@noble/hashes/scrypt.js';
import { keccak_256 } from '@noble/hashes/sha3.js';
import { bytesToHex, hexToBytes, randomBytes } from '@noble/hashes/utils.js';

export interface KeystoreV3 {
  version: 3;
  id: string;
  address?: string;
  crypto: {
    cipher: 'aes-128-ctr';
    cipherparams: { iv: string };
    ciphertext: string;
    kdf: 'scrypt';
    kdfparams: { dklen: number; n: number; p: number; r: number; salt: string };
    mac: string;
  };
}

export class WrongPassword extends Error {
  constructor() {
    super('Wrong password for this wallet.');
  }
}

/** scrypt cost the CLI uses (eth-keystore's default: n = 2^13, r = 8, p = 1). */
export const SCRYPT_N = 8192;

// A copy in a fresh ArrayBuffer: WebCrypto's types want BufferSource over ArrayBuffer.
function buf(b: Uint8Array): ArrayBuffer {
  const out = new ArrayBuffer(b.length);
  new Uint8Array(out).set(b);
  return out;
}

async function aes128ctr(key: Uint8Array, iv: Uint8Array, data: Uint8Array): Promise<Uint8Array> {
  const k = await crypto.subtle.importKey('raw', buf(key), { name: 'AES-CTR' }, false, ['encrypt']);
  // A 128-bit big-endian counter over the whole block, as Rust's Ctr128BE.
  const out = await crypto.subtle.encrypt({ name: 'AES-CTR', counter: buf(iv), length: 128 }, k, buf(data));
  return new Uint8Array(out);
}

function mac(derived: Uint8Array, ciphertext: Uint8Array): Uint8Array {
  const m = new Uint8Array(16 + ciphertext.length);
  m.set(derived.subarray(16, 32));
  m.set(ciphertext, 16);
  return keccak_256(m);
}

export async function encryptKeystore(secret: Uint8Array, password: string, address?: string): Promise<KeystoreV3> {
  const salt = randomBytes(32);
  const iv = randomBytes(16);
  const params = { dklen: 32, n: SCRYPT_N, p: 1, r: 8 };
  const derived = await scryptAsync(new TextEncoder().encode(password), salt, { N: params.n, r: params.r, p: params.p, dkLen: 32 });
  const ciphertext = await aes128ctr(derived.subarray(0, 16), iv, secret);
  const ks: KeystoreV3 = {
    version: 3,
    id: crypto.randomUUID(),
    crypto: {
      cipher: 'aes-128-ctr',
      cipherparams: { iv: bytesToHex(iv) },
      ciphertext: bytesToHex(ciphertext),
      kdf: 'scrypt',
      kdfparams: { ...params, salt: bytesToHex(salt) },
      mac: bytesToHex(mac(derived, ciphertext)),
    },
  };
  if (address) ks.address = address.toLowerCase().replace(/^0x/, '');
  return ks;
}

export async function decryptKeystore(ks: KeystoreV3, password: string): Promise<Uint8Array> {
  const c = ks.crypto;
  if (ks.version !== 3 || c.kdf !== 'scrypt' || c.cipher !== 'aes-128-ctr') {
    throw new Error('Unsupported keystore (expected version 3, scrypt, aes-128-ctr).');
  }
  const kp = c.kdfparams;
  const derived = await scryptAsync(new TextEncoder().encode(password), hexToBytes(kp.salt), {
    N: kp.n,
    r: kp.r,
    p: kp.p,
    dkLen: kp.dklen,
  });
  const ciphertext = hexToBytes(c.ciphertext);
  const expected = hexToBytes(c.mac.replace(/^0x/, ''));
  if (!equalBytes(mac(derived, ciphertext), expected)) throw new WrongPassword();
  return aes128ctr(derived.subarray(0, 16), hexToBytes(c.cipherparams.iv), ciphertext);
}

// --- IndexedDB: one object store of keystores, keyed by address.
const DB = 'tangible';
const STORE = 'keystores';

function open(): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const req = indexedDB.open(DB, 1);
    req.onupgradeneeded = () => req.result.createObjectStore(STORE);
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error ?? new Error('IndexedDB unavailable'));
  });
}

async function tx<T>(mode: IDBTransactionMode, f: (s: IDBObjectStore) => IDBRequest<T>): Promise<T> {
  const db = await open();
  try {
    return await new Promise<T>((resolve, reject) => {
      const r = f(db.transaction(STORE, mode).objectStore(STORE));
      r.onsuccess = () => resolve(r.result);
      r.onerror = () => reject(r.error ?? new Error('IndexedDB request failed'));
    });
  } finally {
    db.close();
  }
}

export interface StoredWallet {
  address: `0x${string}`;
  keystore: KeystoreV3;
  created: string;
}

export function saveWallet(w: StoredWallet): Promise<IDBValidKey> {
  return tx('readwrite', (s) => s.put(w, w.address.toLowerCase()));
}

export async function loadWallets(): Promise<StoredWallet[]> {
  return (await tx('readonly', (s) => s.getAll())) as StoredWallet[];
}
