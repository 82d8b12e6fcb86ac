// The browser's film reader against the format's known-answer vectors (crates/crypto/tests/
// vectors/film-v1.json, written by an independent Python implementation and checked by the Rust
// crate), and the service worker's range answers over a film sealed here with WebCrypto.
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';
import { describe, expect, it } from 'vitest';
import shared from '../../../crates/crypto/tests/vectors/film-v1.json';
import {
  chunkCount,
  chunkRange,
  encryptedLen,
  HEADER_LEN,
  importFilmKey,
  openSegment,
  parseHeader,
  segmentCount,
  segmentNonce,
  segmentOffset,
  segmentPlainLen,
  TamperedSegment,
  type FilmHeader,
} from '../film/format';
import { parseRange, respond, SegmentMemo, type SealedSource } from '../sw/stream';

interface Vector {
  name: string;
  key: string;
  film_id: number;
  quality: number;
  segment_size: number;
  plaintext: string;
  film: string;
}
const { vectors } = shared as { vectors: Vector[] };
const first = (): Vector => {
  const v = vectors[0];
  if (!v) throw new Error('no vectors');
  return v;
};
const u8 = (h: string) => hexToBytes(h) as Uint8Array<ArrayBuffer>;

/** A source over a whole film file held in memory. */
function memorySource(file: Uint8Array): SealedSource & { reads: number[] } {
  const header = parseHeader(file.subarray(0, HEADER_LEN));
  const reads: number[] = [];
  return {
    header,
    reads,
    async sealed(i: number) {
      reads.push(i);
      const a = segmentOffset(header, i);
      return file.slice(a, a + segmentPlainLen(header, i) + 16);
    },
  };
}

async function decryptAll(key: CryptoKey, file: Uint8Array): Promise<Uint8Array> {
  const src = memorySource(file);
  const parts: number[] = [];
  for (let i = 0; i < segmentCount(src.header); i++) parts.push(...(await openSegment(key, src.header, i, await src.sealed(i))));
  return Uint8Array.from(parts);
}

describe('film format v1 (shared vectors)', () => {
  it('has vectors', () => expect(vectors.length).toBeGreaterThanOrEqual(3));
  for (const v of vectors)
    it(`opens "${v.name}" and refuses it altered`, async () => {
      const file = u8(v.film);
      const h = parseHeader(file);
      expect(h.filmId).toBe(BigInt(v.film_id));
      expect(h.quality).toBe(v.quality);
      expect(h.segmentSize).toBe(v.segment_size);
      expect(h.plaintextLen).toBe(v.plaintext.length / 2);
      expect(encryptedLen(h)).toBe(file.length);
      const key = await importFilmKey(u8(v.key));
      expect(bytesToHex(await decryptAll(key, file))).toBe(v.plaintext);
      // A flipped bit anywhere in a segment, or in the header (the associated data), fails.
      for (const at of [HEADER_LEN, file.length - 1, 20]) {
        const bad = file.slice();
        bad[at] = (bad[at] ?? 0) ^ 1;
        if (at === 20) {
          const badH = parseHeader(bad);
          const seg = file.slice(HEADER_LEN, HEADER_LEN + segmentPlainLen(h, 0) + 16);
          await expect(openSegment(key, badH, 0, seg)).rejects.toBeInstanceOf(TamperedSegment);
        } else await expect(decryptAll(key, bad)).rejects.toBeInstanceOf(TamperedSegment);
      }
      // Another key fails at segment 0.
      const other = await importFilmKey(new Uint8Array(32) as Uint8Array<ArrayBuffer>);
      await expect(decryptAll(other, file)).rejects.toMatchObject({ index: 0 });
    });

  it('refuses segments swapped in place (each index is in its nonce)', async () => {
    const v = vectors.find((x) => x.name.startsWith('two full'));
    if (!v) throw new Error('no two-segment vector');
    const file = u8(v.film);
    const h = parseHeader(file);
    const swapped = file.slice();
    const a = segmentOffset(h, 0);
    const b = segmentOffset(h, 1);
    swapped.set(file.subarray(b, b + 32), a);
    swapped.set(file.subarray(a, a + 32), b);
    await expect(decryptAll(await importFilmKey(u8(v.key)), swapped)).rejects.toMatchObject({ index: 0 });
  });

  it('refuses malformed headers', () => {
    const file = u8(first().film);
    const bad = (at: number, value: number) => {
      const b = file.slice(0, HEADER_LEN);
      b[at] = value;
      return () => parseHeader(b);
    };
    expect(bad(0, 0x41)).toThrow(/magic/);
    expect(bad(9, 2)).toThrow(/version 2/);
    expect(bad(44, 1)).toThrow(/reserved/);
    expect(bad(24, 0x02)).toThrow(/segment size/);
    expect(() => parseHeader(file.slice(0, 40))).toThrow(/shorter/);
  });

  it('puts the last-segment flag and the index in the nonce', () => {
    const h = parseHeader(u8(first().film));
    expect(segmentCount(h)).toBe(3);
    expect(bytesToHex(segmentNonce(h, 1))).toBe('a0a1a2a3a4a5a6' + '00000001' + '00');
    expect(bytesToHex(segmentNonce(h, 2))).toBe('a0a1a2a3a4a5a6' + '00000002' + '01');
  });
});

// --- A film sealed here (the writer of crates/crypto/src/film.rs, in WebCrypto).
async function seal(plain: Uint8Array<ArrayBuffer>, segmentSize: number, rawKey: Uint8Array<ArrayBuffer>): Promise<Uint8Array> {
  const head = new Uint8Array(HEADER_LEN);
  head.set(new TextEncoder().encode('TANGFILM'));
  const dv = new DataView(head.buffer);
  dv.setUint16(8, 1);
  dv.setBigUint64(12, 9n);
  head[20] = 1;
  dv.setUint32(24, segmentSize);
  dv.setBigUint64(28, BigInt(plain.length));
  head.set([1, 2, 3, 4, 5, 6, 7], 36);
  const h = parseHeader(head);
  const key = await crypto.subtle.importKey('raw', rawKey, 'AES-GCM', false, ['encrypt']);
  const out = new Uint8Array(encryptedLen(h));
  out.set(head);
  for (let i = 0; i < segmentCount(h); i++) {
    const p = plain.slice(i * segmentSize, i * segmentSize + segmentPlainLen(h, i));
    const c = await crypto.subtle.encrypt({ name: 'AES-GCM', iv: segmentNonce(h, i), additionalData: head }, key, p);
    out.set(new Uint8Array(c), segmentOffset(h, i));
  }
  return out;
}

describe('stored chunks', () => {
  it('tile the file with whole segments', () => {
    const h: FilmHeader = parseHeader(u8(first().film));
    // 3 segments, 2 per chunk: [48, 48+2·32) and [112, 112 + 15 + 16).
    expect(chunkCount(h, 2)).toBe(2);
    expect(chunkRange(h, 2, 0)).toEqual([48, 112]);
    expect(chunkRange(h, 2, 1)).toEqual([112, encryptedLen(h)]);
    expect(chunkRange(h, 8, 0)).toEqual([48, encryptedLen(h)]);
  });
});

describe('service worker range answers', () => {
  const plain = Uint8Array.from({ length: 1000 }, (_, i) => (i * 31 + 7) & 0xff);
  const raw = Uint8Array.from({ length: 32 }, (_, i) => i) as Uint8Array<ArrayBuffer>;
  const film = async (file?: Uint8Array) => {
    const f = file ?? (await seal(plain, 64, raw));
    const source = memorySource(f);
    return { stream: { key: await importFilmKey(raw.slice()), source, memo: new SegmentMemo(2) }, source };
  };
  const bytes = async (r: Response) => new Uint8Array(await r.arrayBuffer());

  it('parses ranges', () => {
    expect(parseRange(null, 10)).toBeNull();
    expect(parseRange('bytes=0-', 10)).toEqual({ start: 0, end: 9 });
    expect(parseRange('bytes=2-4', 10)).toEqual({ start: 2, end: 4 });
    expect(parseRange('bytes=5-99', 10)).toEqual({ start: 5, end: 9 });
    expect(parseRange('bytes=-3', 10)).toEqual({ start: 7, end: 9 });
    expect(parseRange('bytes=10-', 10)).toBe('unsatisfiable');
    expect(parseRange('bytes=1-2,4-5', 10)).toBe('unsatisfiable');
  });

  it('answers a range inside one segment, decrypting that segment only', async () => {
    const { stream, source } = await film();
    const r = await respond(stream, 'bytes=200-210', 'video/mp4', () => {});
    expect(r.status).toBe(206);
    expect(r.headers.get('Content-Range')).toBe('bytes 200-210/1000');
    expect(r.headers.get('Content-Length')).toBe('11');
    expect(await bytes(r)).toEqual(plain.slice(200, 211));
    expect(source.reads).toEqual([3]);
  });

  it('answers a range across segments, and the whole film without a Range', async () => {
    const { stream, source } = await film();
    const r = await respond(stream, 'bytes=60-700', 'video/mp4', () => {});
    expect(await bytes(r)).toEqual(plain.slice(60, 701));
    expect(source.reads).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    const all = await respond(stream, null, 'video/mp4', () => {});
    expect(all.status).toBe(200);
    expect(await bytes(all)).toEqual(plain);
    const end = await respond(stream, 'bytes=990-', 'video/mp4', () => {});
    expect(await bytes(end)).toEqual(plain.slice(990));
    expect((await respond(stream, 'bytes=1000-', 'video/mp4', () => {})).status).toBe(416);
  });

  it('a request cancelled while segments are being opened is not a failure of the film', async () => {
    const { stream } = await film();
    // A slow store: the cancel arrives while the next segments are still being read.
    const slow = { header: stream.source.header, sealed: async (i: number) => (await new Promise((res) => setTimeout(res, 20)), stream.source.sealed(i)) };
    const errors: unknown[] = [];
    const r = await respond({ ...stream, source: slow }, 'bytes=0-', 'video/mp4', (e) => errors.push(e));
    const body = r.body;
    if (!body) throw new Error('no body');
    const reader = body.getReader();
    await reader.read();
    await reader.cancel();
    await new Promise((res) => setTimeout(res, 50));
    expect(errors).toEqual([]);
  });

  it('opens one segment at a time and asks the store to read ahead, within the range', async () => {
    const { stream } = await film();
    let inFlight = 0;
    let most = 0;
    const hints: number[] = [];
    const source = {
      header: stream.source.header,
      sealed: async (i: number) => {
        most = Math.max(most, ++inFlight);
        await new Promise((res) => setTimeout(res, 5));
        inFlight -= 1;
        return stream.source.sealed(i);
      },
      prefetch: (i: number) => hints.push(i),
    };
    const r = await respond({ ...stream, source }, 'bytes=0-700', 'video/mp4', () => {});
    expect(await bytes(r)).toEqual(plain.slice(0, 701));
    expect(most).toBe(1);
    expect(hints).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  });

  it('refuses a tampered first segment and ends the stream at a tampered later one', async () => {
    const good = await seal(plain, 64, raw);
    const h = parseHeader(good);
    const bad = good.slice();
    const at = segmentOffset(h, 5) + 3;
    bad[at] = (bad[at] ?? 0) ^ 0x80;
    const { stream } = await film(bad);
    await expect(respond(stream, 'bytes=320-330', 'video/mp4', () => {})).rejects.toMatchObject({ index: 5 });
    const errors: unknown[] = [];
    const r = await respond(stream, 'bytes=0-', 'video/mp4', (e) => errors.push(e));
    expect(r.status).toBe(206);
    const body = r.body;
    if (!body) throw new Error('no body');
    const reader = body.getReader();
    let got = 0;
    await expect(
      (async () => {
        for (;;) {
          const { done, value } = await reader.read();
          if (done) return;
          got += value.length;
        }
      })(),
    ).rejects.toBeInstanceOf(TamperedSegment);
    // Segments 0–4 were delivered; nothing of segment 5 or after.
    expect(got).toBe(5 * 64);
    expect(errors).toHaveLength(1);
  });
});
