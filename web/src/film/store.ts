// Downloaded films in the origin private file system (OPFS), shared by the page (which writes
// them) and the service worker (which reads them to decrypt). One folder per licence:
//   films/<licence id>/meta.json   what the film is, the ECIES-wrapped key, the signed certificate
//   films/<licence id>/header      the 48-byte film header
//   films/<licence id>/chunk-<k>   encrypted segments [k·perChunk, (k+1)·perChunk), as downloaded
// Only encrypted bytes and the wrapped key are stored: never plaintext, never the raw key.
import type { WrappedKey } from '../ecies';
import { chunkCount, chunkRange, HEADER_LEN, parseHeader, segmentCount, segmentOffset, segmentPlainLen, TAG_LEN, type FilmHeader } from './format';

/** Segments per stored chunk (4 MiB of a 1 MiB-segment film). */
export const SEGMENTS_PER_CHUNK = 4;

/** The signed EIP-712 licence certificate as `GET /v1/licences/{id}/certificate` answers it. */
export interface SignedCertificate {
  certificate: {
    licenceId: string;
    owner: string;
    filmId: number;
    quality: number;
    masterHash: string;
    chainId: number;
    licenceContract: string;
    issuedAt: number;
    validUntil: number;
  };
  signature: string;
}

/** `POST /v1/licences/{id}/key`: the edition key wrapped to the owner's public key. */
export interface KeyRelease {
  licence_id: string;
  film_id: number;
  quality: number;
  chain_id: number;
  wrapped_key: WrappedKey;
}

export interface StoredFilm {
  licenceId: string;
  owner: string;
  filmId: number;
  /** `sd`, `hd`, `4k`. */
  quality: string;
  title: string;
  blobHash: string;
  url: string;
  size: number;
  perChunk: number;
  /** Set once every chunk is stored. */
  complete: boolean;
  keyRelease: KeyRelease | null;
  certificate: SignedCertificate | null;
  /** The certificate signer `GET /v1/config` named when the certificate was fetched. */
  attestationAddress: string | null;
  storedAt: string;
}

async function root(create: boolean): Promise<FileSystemDirectoryHandle | null> {
  const top = await navigator.storage.getDirectory();
  try {
    return await top.getDirectoryHandle('films', { create });
  } catch {
    return null;
  }
}

/** Licence ids are decimal numbers; anything else never names a folder. */
function checkId(id: string): string {
  if (!/^[0-9]{1,78}$/.test(id)) throw new Error(`not a licence id: ${id}`);
  return id;
}

async function folder(id: string, create = false): Promise<FileSystemDirectoryHandle | null> {
  const r = await root(create);
  if (!r) return null;
  try {
    return await r.getDirectoryHandle(checkId(id), { create });
  } catch {
    return null;
  }
}

async function readFile(dir: FileSystemDirectoryHandle, name: string): Promise<File | null> {
  try {
    return await (await dir.getFileHandle(name)).getFile();
  } catch {
    return null;
  }
}

/** Writes `name` whole: the new content is committed at `close()`, or not at all. */
async function writeFile(dir: FileSystemDirectoryHandle, name: string, data: BufferSource | string): Promise<void> {
  const w = await (await dir.getFileHandle(name, { create: true })).createWritable();
  try {
    await w.write(data);
    await w.close();
  } catch (e) {
    await w.abort().catch(() => {});
    throw e;
  }
}

export async function loadMeta(id: string): Promise<StoredFilm | null> {
  const dir = await folder(id);
  const f = dir && (await readFile(dir, 'meta.json'));
  if (!f) return null;
  try {
    return JSON.parse(await f.text()) as StoredFilm;
  } catch {
    return null;
  }
}

export async function saveMeta(meta: StoredFilm): Promise<void> {
  const dir = await folder(meta.licenceId, true);
  if (!dir) throw new Error('The browser refused to create the film folder.');
  await writeFile(dir, 'meta.json', JSON.stringify(meta));
}

/** Every stored film (complete or not). */
export async function listStored(): Promise<StoredFilm[]> {
  const r = await root(false);
  if (!r) return [];
  const out: StoredFilm[] = [];
  for await (const name of r.keys()) {
    if (!/^[0-9]{1,78}$/.test(name)) continue;
    const m = await loadMeta(name);
    if (m) out.push(m);
  }
  return out;
}

/** Deletes a stored film and everything in its folder. */
export async function deleteStored(id: string): Promise<void> {
  const r = await root(false);
  await r?.removeEntry(checkId(id), { recursive: true }).catch(() => {});
}

export async function saveHeader(id: string, bytes: Uint8Array<ArrayBuffer>): Promise<void> {
  const dir = await folder(id, true);
  if (!dir) throw new Error('The browser refused to create the film folder.');
  await writeFile(dir, 'header', bytes);
}

export async function loadHeader(id: string): Promise<FilmHeader | null> {
  const dir = await folder(id);
  const f = dir && (await readFile(dir, 'header'));
  if (!f || f.size !== HEADER_LEN) return null;
  return parseHeader(new Uint8Array(await f.arrayBuffer()));
}

export const chunkName = (k: number) => `chunk-${String(k).padStart(6, '0')}`;

/** The chunks of `h` already stored whole (their exact length), as a set of indices. */
export async function storedChunks(id: string, h: FilmHeader, perChunk: number): Promise<Set<number>> {
  const dir = await folder(id);
  const have = new Set<number>();
  if (!dir) return have;
  for (let k = 0; k < chunkCount(h, perChunk); k++) {
    const f = await readFile(dir, chunkName(k));
    const [a, b] = chunkRange(h, perChunk, k);
    if (f && f.size === b - a) have.add(k);
  }
  return have;
}

export async function saveChunk(id: string, k: number, bytes: Uint8Array<ArrayBuffer>): Promise<void> {
  const dir = await folder(id, true);
  if (!dir) throw new Error('The browser refused to create the film folder.');
  await writeFile(dir, chunkName(k), bytes);
}

/**
 * Reads stored segments (ciphertext ‖ tag, as stored) of a film, a whole chunk file at a time.
 * Used by the service worker; a missing chunk is an error (the film is not fully downloaded).
 */
export class SegmentSource {
  /** The chunks read last or read ahead (ciphertext only), each read from OPFS in one call: a file
   *  read from a worker is a round trip to the browser process, so 4 segments per read, not 1. */
  private chunks = new Map<number, Promise<Uint8Array<ArrayBuffer>>>();
  private constructor(
    private dir: FileSystemDirectoryHandle,
    readonly header: FilmHeader,
    readonly perChunk: number,
  ) {}

  static async open(id: string, perChunk: number): Promise<SegmentSource | null> {
    const dir = await folder(id);
    const header = await loadHeader(id);
    return dir && header ? new SegmentSource(dir, header, perChunk) : null;
  }

  private chunk(k: number): Promise<Uint8Array<ArrayBuffer>> {
    let p = this.chunks.get(k);
    if (p) {
      this.chunks.delete(k);
    } else {
      p = readFile(this.dir, chunkName(k)).then(async (f) => {
        if (!f) throw new Error(`chunk ${k} is not stored (the download is incomplete)`);
        return new Uint8Array(await f.arrayBuffer());
      });
      p.catch(() => this.chunks.delete(k));
    }
    // Most recently used last; the oldest dropped.
    this.chunks.set(k, p);
    while (this.chunks.size > 4) this.chunks.delete(this.chunks.keys().next().value as number);
    return p;
  }

  prefetch(i: number): void {
    if (i < segmentCount(this.header)) void this.chunk(Math.floor(i / this.perChunk)).catch(() => {});
  }

  async sealed(i: number): Promise<Uint8Array<ArrayBuffer>> {
    const k = Math.floor(i / this.perChunk);
    const bytes = await this.chunk(k);
    const start = segmentOffset(this.header, i) - chunkRange(this.header, this.perChunk, k)[0];
    // A view, not a copy: WebCrypto reads it and the chunk stays unchanged.
    return bytes.subarray(start, start + segmentPlainLen(this.header, i) + TAG_LEN);
  }
}
