// Downloading an owned film into the browser's storage: the licence's wrapped key and offline
// certificate first (the API checks ownership on chain), then the encrypted file with range
// requests, one stored chunk of whole segments at a time. An interrupted download (a reload, a
// lost connection) resumes at the first chunk not stored.
import { api, ApiError, type Licence } from '../api';
import { chunkCount, chunkRange, encryptedLen, HEADER_LEN, parseHeader } from './format';
import {
  loadHeader,
  loadMeta,
  saveChunk,
  saveHeader,
  saveMeta,
  SEGMENTS_PER_CHUNK,
  storedChunks,
  deleteStored,
  type KeyRelease,
  type SignedCertificate,
  type StoredFilm,
} from './store';

export const QUALITY_CODE: Record<string, number> = { sd: 0, hd: 1, '4k': 2 };

export interface Progress {
  done: number;
  total: number;
}

/** Fetches `[start, end)` of `url`, which must answer 206 with exactly those bytes. */
async function range(url: string, start: number, end: number, signal?: AbortSignal): Promise<Uint8Array<ArrayBuffer>> {
  let res: Response;
  try {
    res = await fetch(url, { headers: { Range: `bytes=${start}-${end - 1}` }, ...(signal ? { signal } : {}) });
  } catch (e) {
    if (signal?.aborted) throw e;
    throw new ApiError(0, 'network', 'The download was interrupted (the server cannot be reached). Resume it when you are back online.');
  }
  if (res.status !== 206) throw new ApiError(res.status, 'http_' + res.status, `The film server answered ${res.status} to a range request.`);
  const body = new Uint8Array(await res.arrayBuffer());
  if (body.length !== end - start) throw new ApiError(0, 'short', `The film server sent ${body.length} bytes for ${end - start}.`);
  return body;
}

/** The key release and certificate of `licence`, asked with the owner's sign-in token. */
export async function fetchRights(token: string, licenceId: string): Promise<{ keyRelease: KeyRelease; certificate: SignedCertificate | null }> {
  const keyRelease = await api.releaseKey<KeyRelease>(token, licenceId);
  const certificate = await api.certificate<SignedCertificate>(token, licenceId).catch((e: unknown) => {
    // An API without an attestation key issues no certificates: the film then plays online only.
    if (e instanceof ApiError && e.status === 503) return null;
    throw e;
  });
  return { keyRelease, certificate };
}

/**
 * Downloads (or resumes) `licence`'s film. `onProgress` is called after the header and each
 * chunk. Returns the stored film, complete.
 */
export async function download(
  licence: Licence,
  title: string,
  token: string,
  onProgress: (p: Progress) => void,
  signal?: AbortSignal,
): Promise<StoredFilm> {
  const id = licence.licence_id;
  const [content, config] = await Promise.all([api.editionContent(licence.film_id, licence.quality), api.config()]);
  // The API that serves this app serves its content under /v1/content too; another origin's URL
  // (an absolute PUBLIC_URL behind a proxy) is outside the page's connect-src.
  const announced = new URL(content.http_url, location.href);
  const url = announced.origin === location.origin ? announced.href : new URL(`/v1/content/${content.blob_hash}`, location.href).href;
  let meta = await loadMeta(id);
  if (meta && meta.blobHash !== content.blob_hash) {
    // The edition's file changed (a new master): start again.
    await deleteStored(id);
    meta = null;
  }
  if (!meta || !meta.keyRelease) {
    const rights = await fetchRights(token, id);
    meta = {
      licenceId: id,
      owner: licence.owner_address,
      filmId: licence.film_id,
      quality: licence.quality,
      title,
      blobHash: content.blob_hash,
      url,
      size: content.size,
      perChunk: SEGMENTS_PER_CHUNK,
      complete: false,
      keyRelease: rights.keyRelease,
      certificate: rights.certificate,
      attestationAddress: config.attestation_address,
      storedAt: new Date().toISOString(),
    };
    await saveMeta(meta);
  }
  let header = await loadHeader(id);
  if (!header) {
    const bytes = await range(url, 0, HEADER_LEN, signal);
    header = parseHeader(bytes);
    await saveHeader(id, bytes);
  }
  if (encryptedLen(header) !== content.size)
    throw new Error(`The film file's header announces ${encryptedLen(header)} bytes but the server holds ${content.size}.`);
  const perChunk = meta.perChunk;
  const have = await storedChunks(id, header, perChunk);
  const n = chunkCount(header, perChunk);
  const size = (k: number) => {
    const [a, b] = chunkRange(header, perChunk, k);
    return b - a;
  };
  let done = HEADER_LEN;
  for (const k of have) done += size(k);
  onProgress({ done, total: content.size });
  for (let k = 0; k < n; k++) {
    if (have.has(k)) continue;
    signal?.throwIfAborted();
    const [a, b] = chunkRange(header, perChunk, k);
    await saveChunk(id, k, await range(url, a, b, signal));
    done += b - a;
    onProgress({ done, total: content.size });
  }
  meta = { ...meta, complete: true };
  await saveMeta(meta);
  return meta;
}
