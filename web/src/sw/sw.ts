/// <reference lib="webworker" />
// The service worker (built by vite.config.ts as its own entry, `/sw.js`, scope `/`):
// 1. plays stored films: `GET /stream/<licence id>` (the <video>'s source) is answered from the
//    encrypted chunks in OPFS, decrypting only the 1 MiB segments the Range asks for
//    (`stream.ts`); the edition key arrives from the page as a non-extractable CryptoKey
//    (`postMessage`), lives in this worker's memory only, and is asked of the page again if the
//    worker was restarted. A bad tag ends the stream and is reported to the page.
// 2. keeps the app shell (index.html and the built assets, listed at build time) in Cache
//    Storage, so the app loads offline; the API (`/v1/…`) is never cached.
import { SegmentSource } from '../film/store';
import { respond, SegmentMemo, type FilmStream } from './stream';
import { STREAM_PREFIX, type PageToWorker, type WorkerToPage } from './protocol';

declare const __SHELL_FILES__: string[];
declare const __SHELL_VERSION__: string;
const sw = self as unknown as ServiceWorkerGlobalScope;
const SHELL_CACHE = `tangible-shell-${__SHELL_VERSION__}`;

/** Films whose key the page handed over, by licence id. */
const films = new Map<string, FilmStream>();
/** The last failure of each film, for the page to show (`status`). */
const failures = new Map<string, string>();

sw.addEventListener('install', (event) => {
  event.waitUntil(
    caches
      .open(SHELL_CACHE)
      .then((c) => c.addAll(['/', ...__SHELL_FILES__]))
      .then(() => sw.skipWaiting()),
  );
});

sw.addEventListener('activate', (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((names) => Promise.all(names.filter((n) => n.startsWith('tangible-shell-') && n !== SHELL_CACHE).map((n) => caches.delete(n))))
      .then(() => sw.clients.claim()),
  );
});

const reply = (port: MessagePort | undefined, m: WorkerToPage) => port?.postMessage(m);

async function load(licence: string, key: CryptoKey, perChunk: number): Promise<FilmStream> {
  const source = await SegmentSource.open(licence, perChunk);
  if (!source) throw new Error('This film is not stored in this browser.');
  const film = { key, source, memo: new SegmentMemo() };
  films.set(licence, film);
  failures.delete(licence);
  return film;
}

sw.addEventListener('message', (event) => {
  const m = event.data as PageToWorker;
  const port = event.ports[0];
  if (m.type === 'key') {
    event.waitUntil(
      load(m.licence, m.key, m.perChunk).then(
        () => reply(port, { type: 'ok' }),
        (e: unknown) => reply(port, { type: 'error', message: e instanceof Error ? e.message : String(e) }),
      ),
    );
  } else if (m.type === 'forget') {
    films.get(m.licence)?.memo.clear();
    films.delete(m.licence);
    reply(port, { type: 'ok' });
  } else if (m.type === 'status') {
    reply(port, { type: 'status', loaded: films.has(m.licence), failure: failures.get(m.licence) ?? null });
  }
});

/** Asks the page playing `licence` for its key again (this worker was stopped and restarted). */
async function askKey(clientId: string, licence: string): Promise<FilmStream | null> {
  const client = clientId ? await sw.clients.get(clientId) : null;
  if (!client) return null;
  const channel = new MessageChannel();
  const answer = new Promise<PageToWorker | null>((resolve) => {
    channel.port1.onmessage = (e) => resolve(e.data as PageToWorker);
    setTimeout(() => resolve(null), 3000);
  });
  client.postMessage({ type: 'need-key', licence } satisfies WorkerToPage, [channel.port2]);
  const m = await answer;
  return m?.type === 'key' ? load(licence, m.key, m.perChunk) : null;
}

function fail(licence: string, e: unknown) {
  const message = e instanceof Error ? e.message : String(e);
  failures.set(licence, message);
  films.get(licence)?.memo.clear();
  void sw.clients.matchAll({ type: 'window' }).then((all) => {
    for (const c of all) c.postMessage({ type: 'film-error', licence, message } satisfies WorkerToPage);
  });
}

async function stream(event: FetchEvent, licence: string): Promise<Response> {
  const failed = failures.get(licence);
  if (failed) return new Response(failed, { status: 409, headers: { 'Content-Type': 'text/plain' } });
  const film = films.get(licence) ?? (await askKey(event.clientId || event.resultingClientId, licence));
  if (!film) return new Response('No key for this film: open it from your library.', { status: 403, headers: { 'Content-Type': 'text/plain' } });
  try {
    return await respond(film, event.request.headers.get('Range'), 'video/mp4', (e) => fail(licence, e));
  } catch (e) {
    fail(licence, e);
    return new Response(failures.get(licence) ?? 'error', { status: 409, headers: { 'Content-Type': 'text/plain' } });
  }
}

async function shell(request: Request): Promise<Response> {
  const cache = await caches.open(SHELL_CACHE);
  if (request.mode === 'navigate') {
    // The page: the network's when reachable (a deploy is seen at once), else the cached shell.
    try {
      return await fetch(request);
    } catch {
      const cached = await cache.match('/');
      if (cached) return cached;
      throw new Error('offline and no cached app');
    }
  }
  const cached = await cache.match(request);
  if (cached) return cached;
  const res = await fetch(request);
  if (res.ok && new URL(request.url).pathname.startsWith('/assets/')) await cache.put(request, res.clone());
  return res;
}

sw.addEventListener('fetch', (event) => {
  const url = new URL(event.request.url);
  if (url.origin !== sw.location.origin || event.request.method !== 'GET') return;
  if (url.pathname.startsWith(STREAM_PREFIX)) {
    const licence = url.pathname.slice(STREAM_PREFIX.length);
    if (/^[0-9]{1,78}$/.test(licence)) event.respondWith(stream(event, licence));
    return;
  }
  const p = url.pathname;
  if (p === '/v1' || p.startsWith('/v1/') || p === '/healthz' || p === '/readyz' || p === '/metrics' || p === '/sw.js') return;
  event.respondWith(shell(event.request));
});
