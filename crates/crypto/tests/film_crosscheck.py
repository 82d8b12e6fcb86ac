#!/usr/bin/env python3
"""Independent implementation of Tangible's film file format (crates/crypto/FORMAT.md,
"Film file"), written from the specification alone and used to cross-check the Rust code.
Only the `cryptography` package's AES-256-GCM is shared with nothing in the Rust tree.

Reads one JSON request on stdin and writes one JSON answer on stdout:

  {"op": "encrypt", "key": hex, "nonce_prefix": hex (7 bytes), "film_id": int, "quality": int,
   "segment_size": int, "plaintext": hex}                      -> {"film": hex}
  {"op": "decrypt", "key": hex, "film": hex}  or  {"op": "decrypt", "key": hex, "path": file}
      -> {"film_id", "quality", "segment_size", "plaintext_len", "nonce_prefix": hex,
          "segments": int, "plaintext": hex (or "plaintext_sha256": hex with "digest_only": true)}
      or {"error": "..."}

Run with --vectors to print the known-answer vectors of tests/vectors/film-v1.json.
"""
import hashlib
import json
import sys

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

MAGIC = b"TANGFILM"
HEADER_LEN = 48
TAG_LEN = 16
MAX_SEGMENT_SIZE = 16 * 1024 * 1024


class FilmError(Exception):
    pass


def unhex(s):
    return bytes.fromhex(s[2:] if s.startswith("0x") else s)


def header_bytes(film_id, quality, segment_size, plaintext_len, nonce_prefix):
    # offset 0 magic(8) | 8 version(2) | 10 reserved(2) | 12 film_id(8) | 20 quality(1)
    # | 21 reserved(3) | 24 segment_size(4) | 28 plaintext_len(8) | 36 nonce_prefix(7) | 43 reserved(5)
    assert len(nonce_prefix) == 7
    h = (
        MAGIC
        + (1).to_bytes(2, "big")
        + bytes(2)
        + film_id.to_bytes(8, "big")
        + quality.to_bytes(1, "big")
        + bytes(3)
        + segment_size.to_bytes(4, "big")
        + plaintext_len.to_bytes(8, "big")
        + nonce_prefix
        + bytes(5)
    )
    assert len(h) == HEADER_LEN
    return h


def segment_count(plaintext_len, segment_size):
    if plaintext_len == 0:
        return 1
    return -(-plaintext_len // segment_size)


def nonce(prefix, i, last):
    return prefix + i.to_bytes(4, "big") + (b"\x01" if last else b"\x00")


def encrypt(key, nonce_prefix, film_id, quality, segment_size, plaintext):
    header = header_bytes(film_id, quality, segment_size, len(plaintext), nonce_prefix)
    aead = AESGCM(key)
    n = segment_count(len(plaintext), segment_size)
    out = [header]
    for i in range(n):
        seg = plaintext[i * segment_size : (i + 1) * segment_size]
        out.append(aead.encrypt(nonce(nonce_prefix, i, i == n - 1), seg, header))
    return b"".join(out)


def decrypt(key, film):
    if len(film) < HEADER_LEN:
        raise FilmError("TruncatedHeader")
    header = film[:HEADER_LEN]
    if header[0:8] != MAGIC:
        raise FilmError("BadMagic")
    if int.from_bytes(header[8:10], "big") != 1:
        raise FilmError("UnsupportedVersion")
    if any(header[10:12] + header[21:24] + header[43:48]):
        raise FilmError("MalformedHeader")
    film_id = int.from_bytes(header[12:20], "big")
    quality = header[20]
    segment_size = int.from_bytes(header[24:28], "big")
    plaintext_len = int.from_bytes(header[28:36], "big")
    prefix = header[36:43]
    if not 1 <= segment_size <= MAX_SEGMENT_SIZE:
        raise FilmError("MalformedHeader")
    n = segment_count(plaintext_len, segment_size)
    if n > 2**32:
        raise FilmError("MalformedHeader")
    expected_len = HEADER_LEN + plaintext_len + TAG_LEN * n
    if len(film) < expected_len:
        raise FilmError("Truncated")
    if len(film) > expected_len:
        raise FilmError("TrailingData")
    aead = AESGCM(key)
    plain = []
    for i in range(n):
        start = HEADER_LEN + i * (segment_size + TAG_LEN)
        seg_len = min(segment_size, plaintext_len - i * segment_size) if plaintext_len else 0
        try:
            plain.append(aead.decrypt(nonce(prefix, i, i == n - 1), film[start : start + seg_len + TAG_LEN], header))
        except InvalidTag:
            raise FilmError("WrongKey" if i == 0 else f"TamperedSegment{{index: {i}}}")
    return {
        "film_id": film_id,
        "quality": quality,
        "segment_size": segment_size,
        "plaintext_len": plaintext_len,
        "nonce_prefix": prefix.hex(),
        "segments": n,
    }, b"".join(plain)


def handle(req):
    if req["op"] == "encrypt":
        film = encrypt(
            unhex(req["key"]),
            unhex(req["nonce_prefix"]),
            int(req["film_id"]),
            int(req["quality"]),
            int(req["segment_size"]),
            unhex(req["plaintext"]),
        )
        return {"film": film.hex()}
    if req["op"] == "decrypt":
        if "path" in req:
            with open(req["path"], "rb") as f:
                film = f.read()
        else:
            film = unhex(req["film"])
        try:
            info, plain = decrypt(unhex(req["key"]), film)
        except FilmError as e:
            return {"error": str(e)}
        if req.get("digest_only"):
            info["plaintext_sha256"] = hashlib.sha256(plain).hexdigest()
        else:
            info["plaintext"] = plain.hex()
        return info
    raise ValueError(f"unknown op {req['op']}")


def vectors():
    """The committed known-answer vectors: fixed key, nonce prefix and edition; 16-byte segments
    (the format allows 1 ..= 16 MiB) so the exact bytes stay readable."""
    key = bytes(range(0x00, 0x20))
    prefix = bytes.fromhex("a0a1a2a3a4a5a6")
    cases = [
        ("three segments, the last one short", 7, 2, 16, b"Tangible film format v1: a known-answer vector."),
        ("two full segments", 7, 2, 16, bytes(range(32))),
        ("empty film: one empty final segment", 258, 1, 16, b""),
    ]
    out = []
    for name, film_id, quality, seg, plain in cases:
        out.append(
            {
                "name": name,
                "key": key.hex(),
                "nonce_prefix": prefix.hex(),
                "film_id": film_id,
                "quality": quality,
                "segment_size": seg,
                "plaintext": plain.hex(),
                "film": encrypt(key, prefix, film_id, quality, seg, plain).hex(),
            }
        )
    return {
        "about": "Known-answer vectors of the film format v1 (FORMAT.md), generated by tests/film_crosscheck.py --vectors",
        "vectors": out,
    }


def main():
    if sys.argv[1:] == ["--vectors"]:
        json.dump(vectors(), sys.stdout, indent=2)
        sys.stdout.write("\n")
        return
    json.dump(handle(json.load(sys.stdin)), sys.stdout)


if __name__ == "__main__":
    main()
