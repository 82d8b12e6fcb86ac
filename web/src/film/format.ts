// The encrypted film file (crates/crypto/FORMAT.md, "Film file"; crates/crypto/src/film.rs): a
// 48-byte header, then segments of `segment_size` plaintext bytes (1 MiB as written), each
// `ciphertext ‖ 16-byte tag`, sealed with AES-256-GCM under the nonce
// `nonce_prefix (7) ‖ index (u32 BE) ‖ last (1)` and the whole header as associated data.
// Pure: the geometry the downloader, the service worker and the tests share, and the opening of
// one segment with WebCrypto (every tag checked).

export const HEADER_LEN = 48;
export const TAG_LEN = 16;
export const MAX_SEGMENT_SIZE = 16 << 20;
const MAGIC = 'TANGFILM';

export class FilmFormatError extends Error {}
/** A segment whose tag does not verify: tampered, moved, or the wrong key. */
export class TamperedSegment extends Error {
  constructor(readonly index: number) {
    super(
      index === 0
        ? 'The stored film does not authenticate at its first segment: it was altered, or the key is wrong.'
        : `The stored film was altered: segment ${index} does not authenticate.`,
    );
  }
}

export interface FilmHeader {
  /** The 48 header bytes, the associated data of every segment. */
  bytes: Uint8Array;
  filmId: bigint;
  quality: number;
  segmentSize: number;
  plaintextLen: number;
  noncePrefix: Uint8Array;
}

/** Parses and validates a header (the checks of `Header::parse`). */
export function parseHeader(b: Uint8Array): FilmHeader {
  if (b.length < HEADER_LEN) throw new FilmFormatError('The film file is shorter than its header.');
  const bytes = b.slice(0, HEADER_LEN);
  if (String.fromCharCode(...bytes.subarray(0, 8)) !== MAGIC) throw new FilmFormatError('Not a Tangible film file (bad magic).');
  const v = new DataView(bytes.buffer);
  const version = v.getUint16(8);
  if (version !== 1) throw new FilmFormatError(`Unsupported film format version ${version}.`);
  const reserved = [...bytes.subarray(10, 12), ...bytes.subarray(21, 24), ...bytes.subarray(43, 48)];
  if (reserved.some((x) => x !== 0)) throw new FilmFormatError('Malformed film header (reserved bytes are not zero).');
  const segmentSize = v.getUint32(24);
  if (segmentSize === 0 || segmentSize > MAX_SEGMENT_SIZE) throw new FilmFormatError('Malformed film header (segment size out of range).');
  const plaintextLen = v.getBigUint64(28);
  if (plaintextLen > BigInt(Number.MAX_SAFE_INTEGER) / 2n) throw new FilmFormatError('Film too large for this player.');
  return {
    bytes,
    filmId: v.getBigUint64(12),
    quality: bytes[20] ?? 0,
    segmentSize,
    plaintextLen: Number(plaintextLen),
    noncePrefix: bytes.slice(36, 43),
  };
}

/** `ceil(plaintext_len / segment_size)`, and 1 for an empty film. */
export function segmentCount(h: FilmHeader): number {
  return h.plaintextLen === 0 ? 1 : Math.floor((h.plaintextLen - 1) / h.segmentSize) + 1;
}

/** Plaintext bytes of segment `i`. */
export function segmentPlainLen(h: FilmHeader, i: number): number {
  return Math.max(0, Math.min(h.segmentSize, h.plaintextLen - i * h.segmentSize));
}

/** File offset of segment `i` (its ciphertext ‖ tag). */
export function segmentOffset(h: FilmHeader, i: number): number {
  return HEADER_LEN + i * (h.segmentSize + TAG_LEN);
}

/** The encrypted file's exact length: `48 + plaintext_len + 16·n`. */
export function encryptedLen(h: FilmHeader): number {
  return HEADER_LEN + h.plaintextLen + TAG_LEN * segmentCount(h);
}

/** The nonce of segment `i`: prefix ‖ i (u32 BE) ‖ last flag. */
export function segmentNonce(h: FilmHeader, i: number): Uint8Array<ArrayBuffer> {
  const n = new Uint8Array(12);
  n.set(h.noncePrefix, 0);
  new DataView(n.buffer).setUint32(7, i);
  n[11] = i === segmentCount(h) - 1 ? 1 : 0;
  return n;
}

/** The segments holding plaintext bytes `[start, end]` (inclusive), first and last index. */
export function segmentsFor(h: FilmHeader, start: number, end: number): [number, number] {
  return [Math.floor(start / h.segmentSize), Math.floor(end / h.segmentSize)];
}

/**
 * Storage chunks: the downloaded file is kept as the header and chunks of `perChunk` whole
 * segments, each written (and committed) at once, so an interrupted download resumes at the
 * first missing chunk and no file is ever rewritten. Chunk `k` holds segments
 * `[k·perChunk, (k+1)·perChunk)`.
 */
export function chunkCount(h: FilmHeader, perChunk: number): number {
  return Math.ceil(segmentCount(h) / perChunk);
}

/** File byte range `[start, end)` of chunk `k`. */
export function chunkRange(h: FilmHeader, perChunk: number, k: number): [number, number] {
  const first = k * perChunk;
  const last = Math.min(segmentCount(h), first + perChunk);
  return [segmentOffset(h, first), segmentOffset(h, last - 1) + segmentPlainLen(h, last - 1) + TAG_LEN];
}

/** Imports an edition key (32 bytes) as a non-extractable AES-GCM decryption key. */
export function importFilmKey(raw: Uint8Array<ArrayBuffer>): Promise<CryptoKey> {
  if (raw.length !== 32) throw new FilmFormatError('An edition key is 32 bytes.');
  return crypto.subtle.importKey('raw', raw, 'AES-GCM', false, ['decrypt']);
}

/** Opens segment `i` (`sealed` = ciphertext ‖ tag); throws `TamperedSegment` on a bad tag. */
export async function openSegment(key: CryptoKey, h: FilmHeader, i: number, sealed: Uint8Array<ArrayBuffer>): Promise<Uint8Array> {
  if (sealed.length !== segmentPlainLen(h, i) + TAG_LEN) throw new TamperedSegment(i);
  try {
    const plain = await crypto.subtle.decrypt(
      { name: 'AES-GCM', iv: segmentNonce(h, i), additionalData: h.bytes as Uint8Array<ArrayBuffer>, tagLength: 128 },
      key,
      sealed,
    );
    return new Uint8Array(plain);
  } catch {
    throw new TamperedSegment(i);
  }
}
