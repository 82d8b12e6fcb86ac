import { useEffect, useState } from 'preact/hooks';
import { api, ApiError, errorMessage, short, type Licence, type PublicConfig } from '../api';
import { download } from '../film/download';
import { deleteStored, listStored, type StoredFilm } from '../film/store';
import { useLoad, useSession } from '../hooks';
import { ErrorBox, Loaded, LongId, qualityLabel } from '../ui';
import { signedIn, type Session } from '../wallet';
import { Money } from './Money';
import { Resale, type OpenOffer } from './Resale';

export function Library() {
  const s = useSession();
  if (!s)
    return (
      <section>
        <h1>Your library</h1>
        <p>
          <a href="/wallet?next=/library">Unlock or create your wallet</a> to see the films you own.
        </p>
      </section>
    );
  return <LibraryOf session={s} />;
}

interface Shelf {
  items: Licence[];
  titles: Map<number, string>;
  /** The films stored in this browser for this owner, by licence id. */
  stored: Map<string, StoredFilm>;
  /** Stored copies deleted by this sync (licences this wallet no longer owns). */
  removed: StoredFilm[];
  offline: boolean;
  /** The owner's open resale offers, by licence id. */
  offers: Map<string, OpenOffer>;
  /** The chain's clock when loaded (card holds end in chain time). */
  chainTime: number;
  /** The server's configuration (the domain of signed orders); `null` offline. */
  config: PublicConfig | null;
  /** Each edition's resale floor, cents, by `<film_id>-<quality>`. */
  floors: Map<string, number>;
}

/**
 * The owner's licences and the films stored for them. Online, this is also the sync: a stored
 * film whose licence this wallet no longer holds (sold, revoked) is deleted. Offline, the stored
 * films are listed from storage alone.
 */
async function loadShelf(owner: string): Promise<Shelf> {
  const all = await listStored().catch(() => [] as StoredFilm[]);
  const mine = all.filter((f) => f.owner.toLowerCase() === owner.toLowerCase());
  let page;
  try {
    page = await api.licences(owner);
  } catch (e) {
    if (!(e instanceof ApiError && e.code === 'network')) throw e;
    const stored = new Map(mine.map((f) => [f.licenceId, f]));
    return { items: [], titles: new Map(), stored, removed: [], offline: true, offers: new Map(), chainTime: 0, config: null, floors: new Map() };
  }
  const ids = [...new Set(page.items.map((l) => l.film_id))];
  const [films, filmOffers, account, config] = await Promise.all([
    Promise.all(ids.map((id) => api.film(id).catch(() => null))),
    Promise.all(ids.map((id) => api.offers(id))),
    api.account(owner),
    api.config(),
  ]);
  const offers = new Map(
    filmOffers
      .flatMap((o) => o.items)
      .filter((o) => o.seller_address.toLowerCase() === owner.toLowerCase())
      .map((o) => [o.licence_id, { offerId: o.offer_id, priceCents: o.price_cents }] as const),
  );
  const titles = new Map(films.flatMap((f) => (f ? [[f.film_id, f.title] as const] : [])));
  const floors = new Map(
    films.flatMap((f) => (f ? f.editions.map((e) => [`${f.film_id}-${e.quality}`, e.resale_floor_cents ?? 0] as const) : [])),
  );
  const owned = new Set(page.items.map((l) => l.licence_id));
  const removed: StoredFilm[] = [];
  // Only a complete listing proves a licence is gone.
  if (!page.next_cursor)
    for (const f of mine)
      if (!owned.has(f.licenceId)) {
        await deleteStored(f.licenceId);
        removed.push(f);
      }
  const stored = new Map(mine.filter((f) => owned.has(f.licenceId)).map((f) => [f.licenceId, f]));
  return { items: page.items, titles, stored, removed, offline: false, offers, chainTime: account.chain_time, config, floors };
}

function LibraryOf({ session }: { session: Session }) {
  const owner = session.address;
  const [shelf, retry] = useLoad(() => loadShelf(owner), [owner]);
  return (
    <section>
      <h1>Your library</h1>
      <p class="muted">
        The films you own: licences held by your wallet <code title={owner}>{short(owner)}</code>
      </p>
      <Loaded load={shelf} what="your licences" retry={retry}>
        {(s) => (
          <>
            {s.config && <Money session={session} config={s.config} />}
            {s.removed.length > 0 && (
              <p class="notice" role="status" data-testid="sync-removed">
                Deleted from this browser, as this wallet no longer owns them: {s.removed.map((f) => f.title).join(', ')}.
              </p>
            )}
            {s.offline ? <OfflineShelf stored={[...s.stored.values()]} retry={retry} /> : <OnlineShelf shelf={s} session={session} retry={retry} />}
          </>
        )}
      </Loaded>
    </section>
  );
}

function OfflineShelf({ stored, retry }: { stored: StoredFilm[]; retry: () => void }) {
  return (
    <>
      <p class="notice" role="status" data-testid="offline">
        You are offline: the films stored in this browser can still be played while their offline certificate is valid.{' '}
        <button type="button" class="link" onClick={retry}>
          Try again
        </button>
      </p>
      {stored.length === 0 ? (
        <p class="muted">No film is stored in this browser.</p>
      ) : (
        <ul class="licences" data-testid="licences">
          {stored.map((f) => (
            <li key={f.licenceId} class="card" data-licence={f.licenceId}>
              <h2>{f.title}</h2>
              <p>
                <span class="badge">{qualityLabel(f.quality)}</span>
                <span class="badge ok">{f.complete ? 'Stored' : 'Partly downloaded'}</span>
              </p>
              <p class="muted small">
                Licence number <LongId prefix="#" value={f.licenceId} />
              </p>
              {f.complete && (
                <p>
                  <a class="button" href={`/play/${f.licenceId}`}>
                    Play
                  </a>
                </p>
              )}
            </li>
          ))}
        </ul>
      )}
    </>
  );
}

function OnlineShelf({ shelf, session, retry }: { shelf: Shelf; session: Session; retry: () => void }) {
  if (shelf.items.length === 0)
    return (
      <div data-testid="no-licence">
        <p class="muted">
          This wallet holds no licence. <a href="/">Browse the catalogue</a>. A licence just bought appears here within a few seconds; press
          Refresh if it does not.
        </p>
        <button type="button" class="secondary" onClick={retry}>
          Refresh
        </button>
      </div>
    );
  return (
    <ul class="licences" data-testid="licences">
      {shelf.items.map((l) => {
        const title = shelf.titles.get(l.film_id) ?? `Film ${l.film_id}`;
        return (
          <li key={l.licence_id} class="card" data-licence={l.licence_id}>
            <h2>{title}</h2>
            <p>
              <span class="badge">{qualityLabel(l.quality)}</span>
              {l.revoked && <span class="badge danger">Revoked</span>}
            </p>
            <p class="muted small">
              Licence number <LongId prefix="#" value={l.licence_id} />
            </p>
            <p class="muted small">Acquired {new Date(l.acquired_at).toLocaleString()}</p>
            <p class="muted small">
              Transaction <LongId value={l.tx_hash} />
            </p>
            {!l.revoked && <Storage licence={l} title={title} stored={shelf.stored.get(l.licence_id) ?? null} session={session} />}
            {!l.revoked && shelf.config && (
              <Resale
                licence={l}
                offer={shelf.offers.get(l.licence_id) ?? null}
                chainTime={shelf.chainTime}
                floorCents={shelf.floors.get(`${l.film_id}-${l.quality}`) ?? 0}
                config={shelf.config}
                session={session}
              />
            )}
          </li>
        );
      })}
    </ul>
  );
}

type Phase =
  | { kind: 'idle' }
  | { kind: 'downloading'; done: number; total: number }
  | { kind: 'failed'; message: string; done: number; total: number };

const mb = (n: number) => (n / 1048576).toFixed(1);

/** A licence's copy in this browser: Download (resumable, with progress), then Play or Delete. */
function Storage({ licence, title, stored, session }: { licence: Licence; title: string; stored: StoredFilm | null; session: Session }) {
  const [film, setFilm] = useState(stored);
  const [phase, setPhase] = useState<Phase>({ kind: 'idle' });
  const [abort] = useState(() => new AbortController());
  useEffect(() => () => abort.abort(), []);
  const start = async () => {
    const token = session.login?.token;
    if (!token || !signedIn(session)) return;
    let last = { done: 0, total: film?.size ?? 0 };
    setPhase({ kind: 'downloading', ...last });
    try {
      const done = await download(
        licence,
        title,
        token,
        (p) => {
          last = p;
          setPhase({ kind: 'downloading', ...p });
        },
        abort.signal,
      );
      setFilm(done);
      setPhase({ kind: 'idle' });
    } catch (e) {
      if (abort.signal.aborted) return;
      setPhase({ kind: 'failed', message: errorMessage(e), ...last });
    }
  };
  const remove = async () => {
    await deleteStored(licence.licence_id);
    setFilm(null);
  };
  const pct = (p: { done: number; total: number }) => (p.total ? Math.floor((100 * p.done) / p.total) : 0);
  if (film?.complete && phase.kind === 'idle')
    return (
      <div class="row" data-testid="stored">
        <a class="button" href={`/play/${licence.licence_id}`}>
          Play
        </a>
        <span class="muted small">
          Stored in this browser ({mb(film.size)} MB, encrypted)
          {film.certificate && (
            <span data-testid="offline-until">
              ; plays offline until {new Date(film.certificate.certificate.validUntil * 1000).toLocaleString()}
            </span>
          )}
        </span>
        <button type="button" class="link small" onClick={remove}>
          Delete from this browser
        </button>
      </div>
    );
  if (session.source.kind !== 'keystore')
    return <p class="muted small">Downloading needs this browser's own wallet: a wallet extension cannot open the film's key.</p>;
  if (!signedIn(session))
    return (
      <p class="small">
        <a href="/wallet?next=/library">Sign in</a> to download this film.
      </p>
    );
  return (
    <div data-testid="download">
      {phase.kind === 'idle' && (
        <button type="button" onClick={start}>
          {film ? 'Resume download' : 'Download'}
        </button>
      )}
      {phase.kind !== 'idle' && (
        <div class="progress" data-testid="download-progress">
          <progress max={100} value={pct(phase)} aria-label="Download progress" />
          <span role="status" aria-live="polite" data-testid="download-percent">
            {pct(phase)} % · {mb(phase.done)} of {mb(phase.total)} MB
          </span>
        </div>
      )}
      {phase.kind === 'failed' && (
        <ErrorBox retry={start}>
          The download stopped: {phase.message} What is stored is kept; it resumes from there.
        </ErrorBox>
      )}
    </div>
  );
}
