#!/usr/bin/env python3
"""Independent derivation of the wallet test vectors in tests/it/wallet.rs: BIP39 seed
(PBKDF2-HMAC-SHA512, no passphrase), BIP32 path m/44'/60'/0'/0/0 on secp256k1, Ethereum address
(last 20 bytes of Keccak-256 of the uncompressed public key, EIP-55 checksum). Standard library
plus the `cryptography` package for the curve; Keccak-256 is written out below (hashlib's sha3_256
is the NIST padding, not Ethereum's). Prints one line per phrase: <address> <phrase>.

Self-checks against published values before printing: Keccak-256("") and the address of
"abandon ×11 about", the BIP39 all-zero 12-word phrase (0x9858EfFD232B4033E47d90003D41EC34EcaEda94).
"""
import hashlib
import hmac

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141

# --- Keccak-256 (original padding 0x01, rate 136 bytes) ---
RC = [
    0x0000000000000001, 0x0000000000008082, 0x800000000000808A, 0x8000000080008000,
    0x000000000000808B, 0x0000000080000001, 0x8000000080008081, 0x8000000000008009,
    0x000000000000008A, 0x0000000000000088, 0x0000000080008009, 0x000000008000000A,
    0x000000008000808B, 0x800000000000008B, 0x8000000000008089, 0x8000000000008003,
    0x8000000000008002, 0x8000000000000080, 0x000000000000800A, 0x800000008000000A,
    0x8000000080008081, 0x8000000000008080, 0x0000000080000001, 0x8000000080008008,
]
ROT = [[0, 36, 3, 41, 18], [1, 44, 10, 45, 2], [62, 6, 43, 15, 61], [28, 55, 25, 21, 56], [27, 20, 39, 8, 14]]
M64 = (1 << 64) - 1


def rol(x, n):
    return ((x << n) | (x >> (64 - n))) & M64 if n else x


def keccak_f(a):
    for rc in RC:
        c = [a[x][0] ^ a[x][1] ^ a[x][2] ^ a[x][3] ^ a[x][4] for x in range(5)]
        d = [c[(x - 1) % 5] ^ rol(c[(x + 1) % 5], 1) for x in range(5)]
        a = [[a[x][y] ^ d[x] for y in range(5)] for x in range(5)]
        b = [[0] * 5 for _ in range(5)]
        for x in range(5):
            for y in range(5):
                b[y][(2 * x + 3 * y) % 5] = rol(a[x][y], ROT[x][y])
        a = [[b[x][y] ^ ((~b[(x + 1) % 5][y]) & b[(x + 2) % 5][y]) for y in range(5)] for x in range(5)]
        a[0][0] ^= rc
    return a


def keccak256(data):
    rate = 136
    msg = bytearray(data) + b"\x01"
    msg += bytes(-len(msg) % rate)
    msg[-1] |= 0x80
    a = [[0] * 5 for _ in range(5)]
    for off in range(0, len(msg), rate):
        block = msg[off : off + rate]
        for i in range(rate // 8):
            a[i % 5][i // 5] ^= int.from_bytes(block[8 * i : 8 * i + 8], "little")
        a = keccak_f(a)
    return b"".join(a[i % 5][i // 5].to_bytes(8, "little") for i in range(4))


# --- BIP39 / BIP32 ---
def seed(phrase):
    return hashlib.pbkdf2_hmac("sha512", phrase.encode(), b"mnemonic", 2048)


def public(k, compressed):
    pub = ec.derive_private_key(k, ec.SECP256K1()).public_key()
    fmt = serialization.PublicFormat.CompressedPoint if compressed else serialization.PublicFormat.UncompressedPoint
    return pub.public_bytes(serialization.Encoding.X962, fmt)


def derive(seed_bytes, path):
    i = hmac.new(b"Bitcoin seed", seed_bytes, hashlib.sha512).digest()
    k, chain = int.from_bytes(i[:32], "big"), i[32:]
    for index in path:
        if index >= 0x80000000:
            data = b"\x00" + k.to_bytes(32, "big") + index.to_bytes(4, "big")
        else:
            data = public(k, True) + index.to_bytes(4, "big")
        i = hmac.new(chain, data, hashlib.sha512).digest()
        k, chain = (int.from_bytes(i[:32], "big") + k) % N, i[32:]
    return k


def address(phrase):
    h = 0x80000000
    k = derive(seed(phrase), [44 + h, 60 + h, 0 + h, 0, 0])
    raw = keccak256(public(k, False)[1:])[-20:].hex()
    check = keccak256(raw.encode()).hex()
    return "0x" + "".join(c.upper() if int(check[i], 16) >= 8 else c for i, c in enumerate(raw))


def main():
    assert keccak256(b"").hex() == "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470"
    assert address(" ".join(["abandon"] * 11 + ["about"])) == "0x9858EfFD232B4033E47d90003D41EC34EcaEda94"
    for phrase in [
        " ".join(["test"] * 11 + ["junk"]),
        " ".join(["abandon"] * 23 + ["art"]),
    ]:
        print(address(phrase), phrase)


if __name__ == "__main__":
    main()
