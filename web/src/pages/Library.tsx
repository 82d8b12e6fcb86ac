import { api, short } from '../api';
import { useLoad, useSession } from '../hooks';
import { Loaded, LongId, qualityLabel } from '../ui';

export function Library() {
  const s = useSession();
  if (!s)
    return (
      <section>
        <h1>Your library</h1>
        <p>
          <a href="/wallet">Unlock or create your wallet</a> to see the films you own.
        </p>
      </section>
    );
  return <LibraryOf owner={s.address} />;
}

function LibraryOf({ owner }: { owner: string }) {
  // The licences with their films' titles, shown together (no placeholder title flashing).
  const [licences, retry] = useLoad(async () => {
    const page = await api.licences(owner);
    const ids = [...new Set(page.items.map((l) => l.film_id))];
    const films = await Promise.all(ids.map((id) => api.film(id).catch(() => null)));
    const titles = new Map(films.flatMap((f) => (f ? [[f.film_id, f.title] as const] : [])));
    return { ...page, titles };
  }, [owner]);
  return (
    <section>
      <h1>Your library</h1>
      <p class="muted">
        The films you own: licences held by your wallet <code title={owner}>{short(owner)}</code>
      </p>
      <Loaded load={licences} what="your licences" retry={retry}>
        {(page) =>
          page.items.length === 0 ? (
            <div data-testid="no-licence">
              <p class="muted">
                No licence yet. <a href="/">Browse the catalogue</a>. A licence just bought appears here within a few
                seconds; press Refresh if it does not.
              </p>
              <button type="button" class="secondary" onClick={retry}>
                Refresh
              </button>
            </div>
          ) : (
            <ul class="licences" data-testid="licences">
              {page.items.map((l) => (
                <li key={l.licence_id} class="card">
                  <h2>{page.titles.get(l.film_id) ?? `Film ${l.film_id}`}</h2>
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
                </li>
              ))}
            </ul>
          )
        }
      </Loaded>
    </section>
  );
}
