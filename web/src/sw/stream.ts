// Answering a media element's range request over a film's plaintext, decrypting only the
// segments that hold the bytes asked for (pure of the service worker's globals, so the tests run
// it in Node): the first segment is opened before the response is built, the rest as the
// element reads. Segments are decrypted one at a time, a few ahead of the reader, while the store
// reads further ahead (the next chunk's OPFS read overlaps this one's decrypts): in Chromium,
// WebCrypto decrypts run side by side were faster than one after the other in some runs and far
// slower in others (8 in flight: a fifth of the speed), and they hold more memory
// (docs/BENCHMARKS.md, "browser player"); one at a time is the steady choice. Every tag is
// checked; a bad one ends the stream with an error (the element stops) and is reported through
// `onError`.
import { openSegment, segmentCount, segmentsFor, type FilmHeader } from '../film/format';

export interface SealedSource {
  readonly header: FilmHeader;
  /** Ciphertext ‖ tag of segment `i`, as stored. */
  sealed(i: number): Promise<Uint8Array<ArrayBuffer>>;
  /** A hint that segment `i` will be asked for soon: its storage may be read now. */
  prefetch?(i: number): void;
}

/** A few plaintext segments kept in memory (never in storage) for re-reads around a seek. */
export class SegmentMemo {
  private map = new Map<number, Promise<Uint8Array>>();
  constructor(private readonly size = 8) {}
  get(i: number, open: () => Promise<Uint8Array>): Promise<Uint8Array> {
    let p = this.map.get(i);
    if (p) {
      this.map.delete(i);
    } else {
      p = open();
      p.catch(() => this.map.delete(i));
    }
    this.map.set(i, p);
    while (this.map.size > this.size) {
      const oldest = this.map.keys().next().value as number;
      this.map.delete(oldest);
    }
    return p;
  }
  clear() {
    this.map.clear();
  }
}

/** Segments decrypted ahead of the reader of one answer (one decryption at a time). */
const DECRYPT_AHEAD = 4;
/** Segments whose storage is read ahead of the next decryption. */
const READ_AHEAD = 8;

export type ByteRange = { start: number; end: number } | 'unsatisfiable';

/** Parses a single `Range: bytes=a-b | a- | -n` over `total` bytes; `null` when absent. */
export function parseRange(header: string | null, total: number): ByteRange | null {
  if (!header) return null;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) return 'unsatisfiable';
  let start: number, end: number;
  if (m[1] === '') {
    const n = Number(m[2]);
    if (n === 0) return 'unsatisfiable';
    start = Math.max(0, total - n);
    end = total - 1;
  } else {
    start = Number(m[1]);
    end = m[2] === '' ? total - 1 : Math.min(Number(m[2]), total - 1);
  }
  if (start >= total || end < start) return 'unsatisfiable';
  return { start, end };
}

export interface FilmStream {
  key: CryptoKey;
  source: SealedSource;
  memo: SegmentMemo;
}

function segment(film: FilmStream, i: number): Promise<Uint8Array> {
  return film.memo.get(i, async () => openSegment(film.key, film.source.header, i, await film.source.sealed(i)));
}

/**
 * The response to `rangeHeader` over `film`'s plaintext (`type` its media type). Rejects when
 * the first segment does not open (bad tag, missing chunk); later failures error the body.
 */
export async function respond(
  film: FilmStream,
  rangeHeader: string | null,
  type: string,
  onError: (e: unknown) => void,
): Promise<Response> {
  const h = film.source.header;
  const total = h.plaintextLen;
  const r = parseRange(rangeHeader, total);
  if (r === 'unsatisfiable')
    return new Response(null, { status: 416, headers: { 'Content-Range': `bytes */${total}`, 'Accept-Ranges': 'bytes' } });
  const { start, end } = r ?? { start: 0, end: total - 1 };
  const headers: Record<string, string> = {
    'Content-Type': type,
    'Accept-Ranges': 'bytes',
    'Content-Length': String(total === 0 ? 0 : end - start + 1),
    'Cache-Control': 'no-store',
  };
  if (r) headers['Content-Range'] = `bytes ${start}-${end}/${total}`;
  if (total === 0) return new Response(null, { status: r ? 206 : 200, headers });
  const [first, last] = segmentsFor(h, start, end);
  const stop = Math.min(last, segmentCount(h) - 1);
  // The first segment before the answer: a tampered start is an error, not an empty 206.
  const head = await segment(film, first);
  /** Segments being opened ahead of the reader, oldest first, each decryption chained after the
   *  previous one's; `at` is the oldest's index. The store reads `READ_AHEAD` segments further. */
  const queue: Promise<Uint8Array>[] = [];
  let at = first + 1;
  let cancelled = false;
  let scheduled = first + 1;
  let prefetched = first;
  let tail: Promise<unknown> = Promise.resolve();
  const fill = () => {
    while (queue.length < DECRYPT_AHEAD && scheduled <= stop) {
      const i = scheduled++;
      // After the previous decryption, failed or not (`pull` meets that failure first).
      const p = tail.then(
        () => (cancelled ? new Uint8Array() : segment(film, i)),
        () => (cancelled ? new Uint8Array() : segment(film, i)),
      );
      p.catch(() => {}); // seen by `pull`
      tail = p;
      queue.push(p);
    }
    for (const until = Math.min(stop, scheduled - 1 + READ_AHEAD); prefetched < until; ) {
      prefetched += 1;
      film.source.prefetch?.(prefetched);
    }
  };
  const slice = (plain: Uint8Array, idx: number) => {
    const base = idx * h.segmentSize;
    return plain.subarray(Math.max(0, start - base), Math.min(plain.length, end + 1 - base));
  };
  const body = new ReadableStream<Uint8Array>(
    {
      start(controller) {
        controller.enqueue(slice(head, first));
        fill();
        if (!queue.length) controller.close();
      },
      async pull(controller) {
        const next = queue.shift();
        if (!next) return controller.close();
        let plain: Uint8Array;
        try {
          plain = await next;
        } catch (e) {
          if (cancelled) return;
          onError(e);
          return controller.error(e);
        }
        // The element cancels a request it no longer needs (a seek): not a failure of the film.
        if (cancelled) return;
        controller.enqueue(slice(plain, at++));
        fill();
        if (!queue.length) controller.close();
      },
      cancel() {
        cancelled = true;
        queue.length = 0;
      },
    },
    { highWaterMark: DECRYPT_AHEAD },
  );
  return new Response(body, { status: r ? 206 : 200, headers });
}
