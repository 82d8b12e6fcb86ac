// The page's side of the service worker (src/sw/sw.ts): registration at the root scope, and the
// key handover of a film about to play.
import { STREAM_PREFIX, type PageToWorker, type WorkerToPage } from '../sw/protocol';

/** Registers `/sw.js` (scope `/`) once the page has loaded; a browser without it plays nothing. */
export function registerWorker(): void {
  if (!('serviceWorker' in navigator)) return;
  window.addEventListener('load', () => {
    navigator.serviceWorker.register('/sw.js', { scope: '/' }).catch((e: unknown) => {
      console.warn('service worker not registered', e);
    });
  });
}

/** The worker controlling this page, waiting for it to claim the page after a first install. */
export async function controller(timeoutMs = 10_000): Promise<ServiceWorker> {
  if (!('serviceWorker' in navigator)) throw new Error('This browser cannot play stored films (no service workers).');
  await Promise.race([
    navigator.serviceWorker.ready,
    new Promise((_, reject) => setTimeout(() => reject(new Error('The player did not start (service worker).')), timeoutMs)),
  ]);
  const now = navigator.serviceWorker.controller;
  if (now) return now;
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('The player did not take control of this page; reload it.')), timeoutMs);
    navigator.serviceWorker.addEventListener(
      'controllerchange',
      () => {
        clearTimeout(t);
        const c = navigator.serviceWorker.controller;
        if (c) resolve(c);
        else reject(new Error('The player stopped.'));
      },
      { once: true },
    );
  });
}

/** Sends `m` to the worker and waits for its answer on a fresh channel. */
export async function ask(m: PageToWorker): Promise<WorkerToPage> {
  const w = await controller();
  const channel = new MessageChannel();
  const answer = new Promise<WorkerToPage>((resolve, reject) => {
    channel.port1.onmessage = (e) => resolve(e.data as WorkerToPage);
    setTimeout(() => reject(new Error('The player did not answer.')), 10_000);
  });
  w.postMessage(m, [channel.port2]);
  return answer;
}

/**
 * The virtual URL the worker answers for a stored film, fresh for each playback: Chromium shares
 * media data between elements by URL within a page, so a film played before must not be read
 * again from that memory once its key was handed over anew (a stored copy altered since must fail).
 */
export const streamUrl = (licence: string) => `${STREAM_PREFIX}${licence}?playback=${crypto.randomUUID()}`;

/**
 * Imports the raw edition key as a non-extractable CryptoKey and wipes the bytes: what the page
 * and the worker keep is a handle that cannot be read back.
 */
export async function filmKey(raw: Uint8Array<ArrayBuffer>): Promise<CryptoKey> {
  try {
    return await crypto.subtle.importKey('raw', raw, 'AES-GCM', false, ['decrypt']);
  } finally {
    raw.fill(0);
  }
}

/** Hands the film's key to the worker (kept in its memory while the film plays). */
export async function handOver(licence: string, key: CryptoKey, perChunk: number): Promise<void> {
  const r = await ask({ type: 'key', licence, key, perChunk });
  if (r.type === 'error') throw new Error(r.message);
}

/** Answers the worker's `need-key` (it was restarted) for `licence` with `key` while `active()`. */
export function answerKeyRequests(licence: string, key: CryptoKey, perChunk: number): () => void {
  const f = (e: MessageEvent) => {
    const m = e.data as WorkerToPage;
    if (m.type === 'need-key' && m.licence === licence) e.ports[0]?.postMessage({ type: 'key', licence, key, perChunk } satisfies PageToWorker);
  };
  navigator.serviceWorker.addEventListener('message', f);
  return () => navigator.serviceWorker.removeEventListener('message', f);
}
