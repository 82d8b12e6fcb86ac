// The in-browser wallet: BIP39 words → m/44'/60'/0'/0/0 (the CLI's path), kept encrypted in
// IndexedDB; unlocked for this tab's session only, the key in memory (never localStorage).
import { generateMnemonic, validateMnemonic } from '@scure/bip39';
import { wordlist } from '@scure/bip39/wordlists/english.js';
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';
import { mnemonicToAccount, privateKeyToAccount, type PrivateKeyAccount } from 'viem/accounts';
import { createSiweMessage } from 'viem/siwe';
import { api, type Login } from './api';
import { decryptKeystore, encryptKeystore, loadWallets, saveWallet, type StoredWallet } from './keystore';

export function newMnemonic(): string {
  return generateMnemonic(wordlist, 128);
}

export function normaliseMnemonic(phrase: string): string {
  return phrase.trim().toLowerCase().split(/\s+/).join(' ');
}

export function mnemonicProblem(phrase: string): string | null {
  const words = normaliseMnemonic(phrase).split(' ').filter(Boolean);
  if (words.length !== 12 && words.length !== 24) return `A recovery phrase has 12 or 24 words; this one has ${words.length}.`;
  const unknown = words.find((w) => !wordlist.includes(w));
  if (unknown) return `"${unknown}" is not a word of the BIP39 English list.`;
  if (!validateMnemonic(words.join(' '), wordlist)) return 'These words do not form a valid recovery phrase (checksum).';
  return null;
}

export function secretFromMnemonic(phrase: string): Uint8Array {
  const key = mnemonicToAccount(normaliseMnemonic(phrase)).getHdKey().privateKey;
  if (!key) throw new Error('No private key derived');
  return key;
}

export function secretFromHex(hex: string): Uint8Array {
  const h = hex.trim().replace(/^0x/, '');
  if (!/^[0-9a-fA-F]{64}$/.test(h)) throw new Error('A private key is 64 hexadecimal characters.');
  return hexToBytes(h);
}

export function passwordProblem(pw: string, confirm: string): string | null {
  if (pw.length < 10) return 'Choose a password of at least 10 characters.';
  if (pw !== confirm) return 'The two passwords differ.';
  return null;
}

// --- The session (memory only).
export interface Session {
  address: `0x${string}`;
  account: PrivateKeyAccount;
  login: Login | null;
}

let session: Session | null = null;
const listeners = new Set<() => void>();

export function currentSession(): Session | null {
  return session;
}
export function subscribe(f: () => void): () => void {
  listeners.add(f);
  return () => listeners.delete(f);
}
function set(s: Session | null) {
  session = s;
  listeners.forEach((f) => f());
}

/** Starts a session with the account of `secret`, then wipes `secret`. */
function start(secret: Uint8Array): Session {
  const account = privateKeyToAccount(`0x${bytesToHex(secret)}`);
  secret.fill(0);
  const s = { address: account.address, account, login: null };
  set(s);
  return s;
}

/** Encrypts `secret` under `password`, stores it, and unlocks it. */
export async function storeAndUnlock(secret: Uint8Array, password: string): Promise<Session> {
  const address = privateKeyToAccount(`0x${bytesToHex(secret)}`).address;
  const keystore = await encryptKeystore(secret, password, address);
  await saveWallet({ address, keystore, created: new Date().toISOString() });
  return start(secret);
}

export async function unlock(w: StoredWallet, password: string): Promise<Session> {
  return start(await decryptKeystore(w.keystore, password));
}

export function lock() {
  set(null);
}

export { loadWallets };

/** Sign-In with Ethereum (EIP-4361) against the API's nonce and login routes. */
export async function signIn(): Promise<Login> {
  const s = session;
  if (!s) throw new Error('Unlock your wallet first.');
  const n = await api.nonce(s.address);
  const message = createSiweMessage({
    domain: n.domain,
    address: s.address,
    statement: n.statement,
    uri: n.uri,
    version: '1',
    chainId: n.chain_id,
    nonce: n.nonce,
    issuedAt: new Date(n.issued_at),
    expirationTime: new Date(n.expiration_time),
  });
  const signature = await s.account.signMessage({ message });
  const login = await api.login(message, signature);
  if (session === s) set({ ...s, login });
  return login;
}

export function signedIn(s: Session | null): boolean {
  return !!s?.login && Date.parse(s.login.expires_at) > Date.now();
}
