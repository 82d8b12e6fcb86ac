// Offline check of a cached licence certificate (FORMAT.md "Licence certificate (EIP-712)"): the
// EIP-712 signature recovers to the platform's attestation address, the certificate names this
// licence, edition and the playing wallet, and `issuedAt ≤ now ≤ validUntil`.
import { recoverTypedDataAddress, type Hex } from 'viem';
import type { SignedCertificate } from './store';

const TYPES = {
  LicenceCertificate: [
    { name: 'licenceId', type: 'uint256' },
    { name: 'owner', type: 'address' },
    { name: 'filmId', type: 'uint64' },
    { name: 'quality', type: 'uint8' },
    { name: 'masterHash', type: 'bytes32' },
    { name: 'chainId', type: 'uint64' },
    { name: 'licenceContract', type: 'address' },
    { name: 'issuedAt', type: 'uint64' },
    { name: 'validUntil', type: 'uint64' },
  ],
} as const;

export interface Expected {
  licenceId: string;
  owner: string;
  filmId: number;
  quality: number;
  attestationAddress: string;
}

export type Verdict = { ok: true; validUntil: Date } | { ok: false; reason: string };

const big = (v: string | number) => BigInt(v);

/** The signer of `signed` (throws on a malformed certificate or signature). */
export function certificateSigner(signed: SignedCertificate): Promise<Hex> {
  const c = signed.certificate;
  return recoverTypedDataAddress({
    domain: { name: 'Tangible', version: '1', chainId: big(c.chainId), verifyingContract: c.licenceContract as Hex },
    types: TYPES,
    primaryType: 'LicenceCertificate',
    message: {
      licenceId: big(c.licenceId),
      owner: c.owner as Hex,
      filmId: big(c.filmId),
      quality: Number(c.quality),
      masterHash: c.masterHash as Hex,
      chainId: big(c.chainId),
      licenceContract: c.licenceContract as Hex,
      issuedAt: big(c.issuedAt),
      validUntil: big(c.validUntil),
    },
    signature: signed.signature as Hex,
  });
}

/** Whether `signed` lets `want.owner` play this licence at `now` (ms since the epoch). */
export async function checkCertificate(signed: SignedCertificate | null, want: Expected, now = Date.now()): Promise<Verdict> {
  if (!signed) return { ok: false, reason: 'No offline certificate is stored for this film: connect once to play it.' };
  const c = signed.certificate;
  let signer: string;
  try {
    signer = await certificateSigner(signed);
  } catch {
    return { ok: false, reason: 'The stored certificate is malformed.' };
  }
  if (signer.toLowerCase() !== want.attestationAddress.toLowerCase())
    return { ok: false, reason: 'The stored certificate is not signed by Tangible.' };
  if (big(c.licenceId) !== big(want.licenceId) || big(c.filmId) !== big(want.filmId) || Number(c.quality) !== want.quality)
    return { ok: false, reason: 'The stored certificate is for another licence.' };
  if (c.owner.toLowerCase() !== want.owner.toLowerCase())
    return { ok: false, reason: 'The stored certificate is for another wallet than the unlocked one.' };
  const secs = Math.floor(now / 1000);
  if (secs < Number(c.issuedAt)) return { ok: false, reason: 'The stored certificate is not valid yet (check the clock of this device).' };
  if (secs > Number(c.validUntil))
    return {
      ok: false,
      reason: `The offline certificate expired on ${new Date(Number(c.validUntil) * 1000).toLocaleString()}. Connect to the internet to renew it and play this film.`,
    };
  return { ok: true, validUntil: new Date(Number(c.validUntil) * 1000) };
}
