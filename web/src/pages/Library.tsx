import { api, short } from '../api';
import { useLoad, useSession } from '../hooks';
import { Loaded, qualityLabel } from '../ui';

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
        Licences held by <code>{short(owner)}</code>
      </p>
      <Loaded load={licences} what="your licences" retry={retry}>
        {(page) =>
          page.items.length === 0 ? (
            <div data-testid="no-licence">
              <p class="muted">
                No licence yet. <a href="/">Browse the catalogue</a>. A licence just bought appears once its
                transaction is indexed, within seconds.
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
                    Licence <code class="wrap">#{l.licence_id}</code>
                  </p>
                  <p class="muted small">
                    Acquired {new Date(l.acquired_at).toLocaleString()} · tx <code class="wrap">{short(l.tx_hash)}</code>
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
