// The player (`/play/{licence id}`): a film stored in this browser, decrypted by the service
// worker as the <video> reads it. Before the key is opened, the right to play is checked: online
// (signed in) with a fresh certificate from the API, which also refuses a licence sold or revoked
// (the stored copy is then deleted); offline with the certificate stored with the film. The key
// is unwrapped here (ECIES, the wallet's key), imported as a non-extractable CryptoKey and handed
// to the worker; the raw bytes are wiped at once.
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, ApiError, errorMessage } from '../api';
import { unwrapKey } from '../ecies';
import { checkCertificate } from '../film/certificate';
import { QUALITY_CODE } from '../film/download';
import { deleteStored, loadMeta, saveMeta, type SignedCertificate, type StoredFilm } from '../film/store';
import { answerKeyRequests, ask, filmKey, handOver, streamUrl } from '../film/worker';
import { useSession } from '../hooks';
import type { WorkerToPage } from '../sw/protocol';
import { ErrorBox, Loading, qualityLabel } from '../ui';
import { sessionSecret, signedIn, type Session } from '../wallet';

type State =
  | { kind: 'checking' }
  | { kind: 'refused'; message: string }
  | { kind: 'ready'; film: StoredFilm; note: string; key: CryptoKey; src: string }
  | { kind: 'failed'; message: string };

/** A fresh certificate when the API answers; `null` when it cannot be reached (offline). */
async function freshCertificate(s: Session, film: StoredFilm): Promise<SignedCertificate | null> {
  const token = s.login?.token;
  if (!token || !signedIn(s)) return null;
  try {
    return await api.certificate<SignedCertificate>(token, film.licenceId);
  } catch (e) {
    if (e instanceof ApiError && e.code === 'network') return null;
    throw e;
  }
}

async function prepare(licence: string, s: Session): Promise<State> {
  const film = await loadMeta(licence);
  if (!film || !film.complete) return { kind: 'refused', message: 'This film is not stored in this browser: download it from your library first.' };
  if (film.owner.toLowerCase() !== s.address.toLowerCase())
    return { kind: 'refused', message: 'This film was downloaded by another wallet than the unlocked one.' };
  const secret = sessionSecret(s);
  if (!secret || !film.keyRelease) return { kind: 'refused', message: "Playing needs this browser's own wallet, unlocked." };
  let cert = film.certificate;
  let note: string;
  try {
    const fresh = await freshCertificate(s, film);
    if (fresh) {
      cert = fresh;
      await saveMeta({ ...film, certificate: fresh });
      note = 'Online: licence checked with Tangible.';
    } else note = 'Offline: playing under the certificate stored with the film.';
  } catch (e) {
    if (e instanceof ApiError && (e.status === 403 || e.status === 410)) {
      await deleteStored(licence);
      return { kind: 'refused', message: `${e.message}. The copy stored in this browser was deleted.` };
    }
    throw e;
  }
  if (!film.attestationAddress) return { kind: 'refused', message: 'This Tangible server issues no offline certificates.' };
  const verdict = await checkCertificate(cert, {
    licenceId: film.licenceId,
    owner: s.address,
    filmId: film.filmId,
    quality: QUALITY_CODE[film.quality] ?? -1,
    attestationAddress: film.attestationAddress,
  });
  if (!verdict.ok) return { kind: 'refused', message: verdict.reason };
  const k = film.keyRelease;
  const raw = (await unwrapKey(k.wrapped_key, secret, {
    licence_id: k.licence_id,
    film_id: k.film_id,
    quality: k.quality,
    chain_id: k.chain_id,
  })) as Uint8Array<ArrayBuffer>;
  const key = await filmKey(raw);
  await handOver(licence, key, film.perChunk);
  return { kind: 'ready', film, note: `${note} Offline play allowed until ${verdict.validUntil.toLocaleString()}.`, key, src: streamUrl(licence) };
}

export function PlayerPage({ licence }: { licence: string }) {
  const s = useSession();
  if (!s)
    return (
      <section>
        <h1>Play</h1>
        <p>
          <a href={`/wallet?next=/play/${licence}`}>Unlock your wallet</a> to play this film.
        </p>
      </section>
    );
  return <Player licence={licence} session={s} />;
}

function Player({ licence, session }: { licence: string; session: Session }) {
  const [state, setState] = useState<State>({ kind: 'checking' });
  const [error, setError] = useState('');
  const video = useRef<HTMLVideoElement>(null);
  useEffect(() => {
    let live = true;
    prepare(licence, session).then(
      (st) => live && setState(st),
      (e: unknown) => live && setState({ kind: 'failed', message: errorMessage(e) }),
    );
    return () => {
      live = false;
      void ask({ type: 'forget', licence }).catch(() => {});
    };
  }, [licence, session.address]);
  useEffect(() => {
    if (state.kind !== 'ready') return;
    const stop = answerKeyRequests(licence, state.key, state.film.perChunk);
    // A segment that fails its tag: playback stops here, with the worker's reason.
    const onMessage = (e: MessageEvent) => {
      const m = e.data as WorkerToPage;
      if (m.type === 'film-error' && m.licence === licence) halt(m.message);
    };
    navigator.serviceWorker.addEventListener('message', onMessage);
    return () => {
      stop();
      navigator.serviceWorker.removeEventListener('message', onMessage);
    };
  }, [state]);
  const halt = (message: string) => {
    const v = video.current;
    if (v) {
      v.pause();
      v.removeAttribute('src');
      v.load();
    }
    setError(message);
  };
  const [retried, setRetried] = useState(false);
  const onVideoError = async () => {
    if (error) return;
    const r = await ask({ type: 'status', licence }).catch(() => null);
    const err = video.current?.error;
    // A media error the worker did not cause (no failed segment): loaded once more under a fresh
    // URL before giving up. Headless Chromium sometimes refuses the first load of the stream URL
    // ("Media load rejected by URL safety check"), cause not found; a tampered film is not retried.
    if (!(r?.type === 'status' && r.failure) && !retried && state.kind === 'ready') {
      setRetried(true);
      setState({ ...state, src: streamUrl(licence) });
      return;
    }
    const detail = err ? ` (media error ${err.code}${err.message ? `: ${err.message}` : ''})` : '';
    const why = r?.type === 'status' && r.failure ? r.failure : `The browser could not play this film${detail}.`;
    halt(why);
  };
  return (
    <section class="player">
      <h1>{state.kind === 'ready' ? state.film.title : 'Play'}</h1>
      {state.kind === 'checking' && <Loading what="the film and its licence" />}
      {state.kind === 'refused' && (
        <div data-testid="play-refused">
          <ErrorBox>{state.message}</ErrorBox>
          <p>
            <a href="/library">Back to your library</a>
          </p>
        </div>
      )}
      {state.kind === 'failed' && <ErrorBox>The film cannot be played: {state.message}</ErrorBox>}
      {state.kind === 'ready' && (
        <>
          <p>
            <span class="badge">{qualityLabel(state.film.quality)}</span>
            <span class="muted small">{state.note}</span>
          </p>
          {error ? (
            <div data-testid="play-error">
              <ErrorBox>Playback stopped. {error}</ErrorBox>
            </div>
          ) : (
            <video
              ref={video}
              data-testid="video"
              src={state.src}
              controls
              playsInline
              preload="metadata"
              onError={onVideoError}
            />
          )}
          <p>
            <a href="/library">Back to your library</a>
          </p>
        </>
      )}
    </section>
  );
}
