// The offline check of a licence certificate: an EIP-712 signature by the attestation key over
// FORMAT.md's `LicenceCertificate` type (signed here with viem, as the API signs with alloy).
import { privateKeyToAccount } from 'viem/accounts';
import { describe, expect, it } from 'vitest';
import { checkCertificate } from '../film/certificate';
import type { SignedCertificate } from '../film/store';

const attestation = privateKeyToAccount(`0x${'11'.repeat(32)}`);
const owner = '0x70997970C51812dc3A010C7d01b50e0d17dc79C8';
const now = 1_800_000_000;

async function signed(over: Partial<SignedCertificate['certificate']> = {}, signer = attestation): Promise<SignedCertificate> {
  const certificate = {
    licenceId: '0x' + (12345678901234567890n).toString(16),
    owner,
    filmId: 7,
    quality: 2,
    masterHash: '0x' + 'ab'.repeat(32),
    chainId: 31337,
    licenceContract: '0x5FbDB2315678afecb367f032d93F642f64180aa3',
    issuedAt: now - 10,
    validUntil: now + 3600,
    ...over,
  };
  const signature = await signer.signTypedData({
    domain: { name: 'Tangible', version: '1', chainId: BigInt(certificate.chainId), verifyingContract: certificate.licenceContract as `0x${string}` },
    types: {
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
    },
    primaryType: 'LicenceCertificate',
    message: {
      licenceId: BigInt(certificate.licenceId),
      owner: certificate.owner as `0x${string}`,
      filmId: BigInt(certificate.filmId),
      quality: certificate.quality,
      masterHash: certificate.masterHash as `0x${string}`,
      chainId: BigInt(certificate.chainId),
      licenceContract: certificate.licenceContract as `0x${string}`,
      issuedAt: BigInt(certificate.issuedAt),
      validUntil: BigInt(certificate.validUntil),
    },
  });
  return { certificate, signature };
}

const want = {
  licenceId: '12345678901234567890',
  owner: owner.toLowerCase(),
  filmId: 7,
  quality: 2,
  attestationAddress: attestation.address,
};

describe('offline certificate check', () => {
  it('accepts a valid certificate until validUntil, and refuses it after', async () => {
    const c = await signed();
    expect(await checkCertificate(c, want, now * 1000)).toMatchObject({ ok: true });
    expect(await checkCertificate(c, want, (now + 3600) * 1000)).toMatchObject({ ok: true });
    const late = await checkCertificate(c, want, (now + 3601) * 1000);
    expect(late).toMatchObject({ ok: false });
    expect(!late.ok && late.reason).toMatch(/expired/);
    expect(await checkCertificate(c, want, (now - 11) * 1000)).toMatchObject({ ok: false, reason: expect.stringMatching(/not valid yet/) });
  });

  it('refuses another signer, an altered field, another wallet or licence, none', async () => {
    const other = privateKeyToAccount('0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a');
    expect(await checkCertificate(await signed({}, other), want, now * 1000)).toMatchObject({ reason: expect.stringMatching(/not signed by Tangible/) });
    const c = await signed();
    const stretched = { ...c, certificate: { ...c.certificate, validUntil: now + 10 * 365 * 86400 } };
    expect(await checkCertificate(stretched, want, now * 1000)).toMatchObject({ ok: false });
    expect(await checkCertificate(c, { ...want, owner: attestation.address }, now * 1000)).toMatchObject({ reason: expect.stringMatching(/another wallet/) });
    expect(await checkCertificate(c, { ...want, licenceId: '1' }, now * 1000)).toMatchObject({ reason: expect.stringMatching(/another licence/) });
    expect(await checkCertificate(c, { ...want, quality: 1 }, now * 1000)).toMatchObject({ ok: false });
    expect(await checkCertificate(null, want, now * 1000)).toMatchObject({ ok: false });
    expect(await checkCertificate({ ...c, signature: '0x1234' }, want, now * 1000)).toMatchObject({ reason: expect.stringMatching(/malformed/) });
  });
});
