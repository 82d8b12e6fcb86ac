#!/usr/bin/env python3
"""Writes the Web3 Secret Storage v3 vector of wallet.test.ts independently of the web code:
hashlib's scrypt, AES-128-CTR from `cryptography`, and the Keccak-256 written out in
crates/crypto/tests/wallet_vector.py. Parameters as the CLI's keystores (eth-keystore: scrypt
n=8192, r=8, p=1). Run from the clone: .tools/venv/bin/python3 web/src/test/keystore_vector.py"""
import hashlib
import json

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

ns = {}
exec(open("crates/crypto/tests/wallet_vector.py").read().split("if __name__")[0], ns)
keccak256 = ns["keccak256"]
assert keccak256(b"").hex() == "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470"

secret = bytes.fromhex("59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d")  # anvil #1
password = "correct horse battery staple"
salt, iv = bytes(range(32)), bytes(range(100, 116))
dk = hashlib.scrypt(password.encode(), salt=salt, n=8192, r=8, p=1, dklen=32, maxmem=64 << 20)
enc = Cipher(algorithms.AES(dk[:16]), modes.CTR(iv)).encryptor()
ct = enc.update(secret) + enc.finalize()
print(json.dumps({
    "crypto": {
        "cipher": "aes-128-ctr", "cipherparams": {"iv": iv.hex()}, "ciphertext": ct.hex(), "kdf": "scrypt",
        "kdfparams": {"dklen": 32, "n": 8192, "p": 1, "r": 8, "salt": salt.hex()},
        "mac": keccak256(dk[16:32] + ct).hex(),
    },
    "id": "9c3e4ba4-3c5f-4bd8-9f0e-1b8f3d2d9f00",
    "version": 3,
}))
