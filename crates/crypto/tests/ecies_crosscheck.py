#!/usr/bin/env python3
"""Independent implementation of Tangible's ECIES key wrapping (crates/crypto/FORMAT.md,
"Key wrapping"), used to cross-check the Rust code. Reads one JSON request on stdin:

  {"op": "unwrap", "secret_key": hex, "context": {...}, "wrapped": {...}} -> {"key": hex}
  {"op": "wrap", "public_key": hex (SEC1), "context": {...}, "key": hex}  -> {"wrapped": {...}}

context = {"licence_id": "0x..", "film_id": int, "quality": int, "chain_id": int}.
"""
import json
import os
import sys

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

LABEL = b"tangible/ecies/v1"


def unhex(s):
    return bytes.fromhex(s[2:] if s.startswith("0x") else s)


def compressed(pub):
    return pub.public_bytes(serialization.Encoding.X962, serialization.PublicFormat.CompressedPoint)


def info(ctx, eph_pub, rcpt_pub):
    return (
        LABEL
        + int(ctx["licence_id"], 16).to_bytes(32, "big")
        + int(ctx["film_id"]).to_bytes(8, "big")
        + int(ctx["quality"]).to_bytes(1, "big")
        + int(ctx["chain_id"]).to_bytes(8, "big")
        + eph_pub
        + rcpt_pub
    )


def wrapping_key(shared, ctx, eph_pub, rcpt_pub):
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info(ctx, eph_pub, rcpt_pub)).derive(shared)


def unwrap(req):
    sk = ec.derive_private_key(int.from_bytes(unhex(req["secret_key"]), "big"), ec.SECP256K1())
    w = req["wrapped"]
    assert w["version"] == 1
    eph_bytes = unhex(w["ephemeral_public_key"])
    eph = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256K1(), eph_bytes)
    shared = sk.exchange(ec.ECDH(), eph)
    k = wrapping_key(shared, req["context"], eph_bytes, compressed(sk.public_key()))
    try:
        key = AESGCM(k).decrypt(unhex(w["nonce"]), unhex(w["ciphertext"]), None)
    except InvalidTag:
        return {"error": "InvalidTag"}
    return {"key": key.hex()}


def wrap(req):
    rcpt_bytes = unhex(req["public_key"])
    rcpt = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256K1(), rcpt_bytes)
    eph = ec.generate_private_key(ec.SECP256K1())
    eph_bytes = compressed(eph.public_key())
    shared = eph.exchange(ec.ECDH(), rcpt)
    k = wrapping_key(shared, req["context"], eph_bytes, compressed(rcpt))
    nonce = os.urandom(12)
    ct = AESGCM(k).encrypt(nonce, unhex(req["key"]), None)
    return {
        "wrapped": {
            "version": 1,
            "ephemeral_public_key": "0x" + eph_bytes.hex(),
            "nonce": "0x" + nonce.hex(),
            "ciphertext": "0x" + ct.hex(),
        }
    }


def main():
    req = json.load(sys.stdin)
    out = {"unwrap": unwrap, "wrap": wrap}[req["op"]](req)
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
