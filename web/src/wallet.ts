// The in-browser wallet: BIP39 words → m/44'/60'/0'/0/0 (the CLI's path), kept encrypted in
// IndexedDB; unlocked for this tab's session only, the key in memory (never localStorage).
// Or a wallet extension (EIP-6963), which keeps its key: this tab holds only the sign-in token.
import { generateMnemonic, validateMnemonic } from '@scure/bip39';
import { wordlist } from '@scure/bip39/wordlists/english.js';
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';
import { mnemonicToAccount, privateKeyToAccount, type PrivateKeyAccount } from 'viem/accounts';
import { createClient, custom, getAddress, isAddress, type TypedData, type TypedDataDefinition } from 'viem';
import { getChainId, requestAddresses, signMessage, signTypedData } from 'viem/actions';
import { createSiweMessage } from 'viem/siwe';
import { api, errorMessage, type Login } from './api';
import type { InjectedWallet, WalletInfo } from './eip6963';
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
/**
 * The wallet in use: a key of this browser's keystore, unlocked into this tab's memory, or a
 * wallet extension (EIP-1193, found through EIP-6963) that keeps its key and signs on request.
 */
export type Source =
  | { kind: 'keystore'; account: PrivateKeyAccount; secret: Uint8Array }
  | { kind: 'injected'; wallet: WalletInfo; chainId: number | null };

export interface Session {
  address: `0x${string}`;
  source: Source;
  /** Signs an EIP-191 personal message (`personal_sign`) with the session's key. */
  signMessage(message: string): Promise<`0x${string}`>;
  /** Signs EIP-712 typed data (`eth_signTypedData_v4`): a resale or credit order. */
  signTypedData<const T extends TypedData, P extends keyof T & string>(data: TypedDataDefinition<T, P>): Promise<`0x${string}`>;
  login: Login | null;
}

let session: Session | null = null;
/** Stops following the extension of an injected session (its account and disconnect events). */
let unfollow: (() => void) | null = null;
const listeners = new Set<() => void>();

export function currentSession(): Session | null {
  return session;
}
export function subscribe(f: () => void): () => void {
  listeners.add(f);
  return () => listeners.delete(f);
}
function set(s: Session | null, follow: (() => void) | null = null) {
  // The keystore key of a session that ends is wiped (the new session keeps its own copy).
  const old = session?.source;
  if (old?.kind === 'keystore' && (s?.source.kind !== 'keystore' || s.source.secret !== old.secret)) old.secret.fill(0);
  if (s?.address !== session?.address || s?.source.kind !== session?.source.kind) {
    unfollow?.();
    unfollow = follow;
  }
  session = s;
  listeners.forEach((f) => f());
}

/**
 * Starts a session with the account of `secret`, then wipes `secret`; the session keeps a copy in
 * memory (for the ECIES unwrap of released film keys), wiped when the session ends.
 */
function start(secret: Uint8Array): Session {
  const account = privateKeyToAccount(`0x${bytesToHex(secret)}`);
  const own = secret.slice();
  secret.fill(0);
  const s: Session = {
    address: account.address,
    source: { kind: 'keystore', account, secret: own },
    signMessage: (message) => account.signMessage({ message }),
    signTypedData: (data) => account.signTypedData(data),
    login: null,
  };
  set(s);
  return s;
}

/** Whether `e` is the wallet's "the user rejected the request" (EIP-1193 code 4001). */
export function rejectedByUser(e: unknown): boolean {
  for (let c: unknown = e; c && typeof c === 'object'; c = (c as { cause?: unknown }).cause)
    if ((c as { code?: unknown }).code === 4001) return true;
  return false;
}

/**
 * Starts a session with a wallet extension: asks it for an account (`eth_requestAccounts`) and
 * its chain (`eth_chainId`, shown when it is not Tangible's), and signs through it (viem's
 * `custom` transport). Switching accounts or disconnecting in the extension ends the session.
 */
export async function connectInjected(w: InjectedWallet): Promise<Session> {
  // A bare client and the three actions used, rather than `createWalletClient` with every wallet
  // action attached: 32 kB (gzip) less in the first page's script.
  const client = createClient({ transport: custom(w.provider) });
  let addresses: readonly `0x${string}`[];
  try {
    addresses = await requestAddresses(client);
  } catch (e) {
    throw new Error(
      rejectedByUser(e) ? `You declined the connection in ${w.info.name}.` : `${w.info.name} did not connect: ${errorMessage(e)}`,
      { cause: e },
    );
  }
  const first = addresses[0];
  if (!first || !isAddress(first)) throw new Error(`${w.info.name} shared no account.`);
  const address = getAddress(first);
  const chainId = await getChainId(client).catch(() => null);
  const s: Session = {
    address,
    source: { kind: 'injected', wallet: w.info, chainId },
    signMessage: async (message) => {
      try {
        return await signMessage(client, { account: address, message });
      } catch (e) {
        throw new Error(
          rejectedByUser(e) ? `You declined to sign in ${w.info.name}.` : `${w.info.name} did not sign: ${errorMessage(e)}`,
          { cause: e },
        );
      }
    },
    signTypedData: async (data) => {
      try {
        // The generic definition, checked where it is built (orders.ts), is viem's own type.
        return await signTypedData(client, { account: address, ...(data as TypedDataDefinition) });
      } catch (e) {
        throw new Error(
          rejectedByUser(e) ? `You declined to sign in ${w.info.name}.` : `${w.info.name} did not sign: ${errorMessage(e)}`,
          { cause: e },
        );
      }
    },
    login: null,
  };
  const ours = () => session?.address === address && session.source.kind === 'injected';
  const onAccounts = (accounts: unknown) => {
    const now = Array.isArray(accounts) ? accounts[0] : undefined;
    if (ours() && (typeof now !== 'string' || now.toLowerCase() !== address.toLowerCase())) lock();
  };
  const onDisconnect = () => {
    if (ours()) lock();
  };
  w.provider.on?.('accountsChanged', onAccounts);
  w.provider.on?.('disconnect', onDisconnect);
  set(s, () => {
    w.provider.removeListener?.('accountsChanged', onAccounts);
    w.provider.removeListener?.('disconnect', onDisconnect);
  });
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
  const signature = await s.signMessage(message);
  const login = await api.login(message, signature);
  if (session === s) set({ ...s, login });
  return login;
}

/** The unlocked keystore's secret key, for `unwrapKey`; `null` for an extension's session. */
export function sessionSecret(s: Session | null): Uint8Array | null {
  return s?.source.kind === 'keystore' ? s.source.secret : null;
}

export function signedIn(s: Session | null): boolean {
  return !!s?.login && Date.parse(s.login.expires_at) > Date.now();
}
