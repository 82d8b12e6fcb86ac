import { bytesToHex } from '@noble/hashes/utils.js';
import { privateKeyToAccount } from 'viem/accounts';
import { parseSiweMessage } from 'viem/siwe';
import { describe, expect, it } from 'vitest';
import { decryptKeystore, encryptKeystore, WrongPassword, type KeystoreV3 } from '../keystore';
import { mnemonicProblem, secretFromMnemonic } from '../wallet';

// Written by keystore_vector.py (an independent implementation), in the CLI's format.
const VECTOR: KeystoreV3 = {
  crypto: {
    cipher: 'aes-128-ctr',
    cipherparams: { iv: '6465666768696a6b6c6d6e6f70717273' },
    ciphertext: 'f1b866c04bb308b896e3b9bbe58df5182885a390758445b7a8a6c2d39698599b',
    kdf: 'scrypt',
    kdfparams: { dklen: 32, n: 8192, p: 1, r: 8, salt: '000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f' },
    mac: '9769858a4bfaa36d1742d9778f80d47c086adc210f6723af8399b119aade11ac',
  },
  id: '9c3e4ba4-3c5f-4bd8-9f0e-1b8f3d2d9f00',
  version: 3,
};

describe('keystore (Web3 Secret Storage v3, as the CLI)', () => {
  it('opens a keystore written by another implementation', async () => {
    const secret = await decryptKeystore(VECTOR, 'correct horse battery staple');
    expect(bytesToHex(secret)).toBe('59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d');
  });

  it('refuses a wrong password and a tampered ciphertext', async () => {
    await expect(decryptKeystore(VECTOR, 'correct horse battery stapler')).rejects.toBeInstanceOf(WrongPassword);
    const tampered = structuredClone(VECTOR);
    tampered.crypto.ciphertext = '00' + VECTOR.crypto.ciphertext.slice(2);
    await expect(decryptKeystore(tampered, 'correct horse battery staple')).rejects.toBeInstanceOf(WrongPassword);
  });

  it('writes keystores it can read back, with the CLI parameters', async () => {
    const secret = new Uint8Array(32).fill(7);
    const ks = await encryptKeystore(secret, 'a long password');
    expect(ks.crypto.kdfparams).toMatchObject({ n: 8192, r: 8, p: 1, dklen: 32 });
    expect(ks.crypto.ciphertext).not.toBe(bytesToHex(secret));
    expect(await decryptKeystore(ks, 'a long password')).toEqual(secret);
  });
});

describe('recovery phrase', () => {
  it("derives the CLI's account (m/44'/60'/0'/0/0) from the well-known phrase", () => {
    const key = secretFromMnemonic('test test test  test test test test test test test test junk ');
    expect(privateKeyToAccount(`0x${bytesToHex(key)}`).address).toBe('0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266');
  });

  it('explains what is wrong with a phrase', () => {
    expect(mnemonicProblem('test test test')).toMatch(/12 or 24 words/);
    expect(mnemonicProblem('test test test test test test test test test test test tesst')).toMatch(/"tesst"/);
    expect(mnemonicProblem('test test test test test test test test test test test test')).toMatch(/checksum/);
    expect(mnemonicProblem('test test test test test test test test test test test junk')).toBeNull();
  });
});

describe('sign-in message', () => {
  it('parses back the EIP-4361 fields the API checks', async () => {
    const { createSiweMessage } = await import('viem/siwe');
    const message = createSiweMessage({
      domain: '127.0.0.1:8080',
      address: '0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266',
      statement: 'Sign in to Tangible.',
      uri: 'http://127.0.0.1:8080',
      version: '1',
      chainId: 31337,
      nonce: 'abcdefgh12345678',
      issuedAt: new Date('2026-12-01T10:00:00Z'),
    });
    expect(message.startsWith('127.0.0.1:8080 wants you to sign in with your Ethereum account:\n0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266\n')).toBe(true);
    expect(parseSiweMessage(message)).toMatchObject({ chainId: 31337, nonce: 'abcdefgh12345678' });
  });
});
