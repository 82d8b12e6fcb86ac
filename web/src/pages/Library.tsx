import { api, short } from '../api';
import { useLoad, useSession } from '../hooks';
import { Loaded, QUALITY_LABEL } from '../ui';

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
  const [licences, retry] = useLoad(() => api.licences(owner), [owner]);
  const [films] = useLoad(() => api.films(''), []);
  const title = (id: number) => (films.state === 'ok' ? films.value.items.find((f) => f.film_id === id)?.title : undefined);
  return (
    <section>
      <h1>Your library</h1>
      <p class="muted">
        Licences held by <code>{short(owner)}</code>
      </p>
      <Loaded load={licences} what="your licences" retry={retry}>
        {(page) =>
          page.items.length === 0 ? (
            <p class="muted">
              No licence yet. <a href="/">Browse the catalogue</a>.
            </p>
          ) : (
            <ul class="licences" data-testid="licences">
              {page.items.map((l) => (
                <li key={l.licence_id} class="card">
                  <h2>{title(l.film_id) ?? `Film ${l.film_id}`}</h2>
                  <p>
                    <span class="badge">{QUALITY_LABEL[l.quality] ?? l.quality}</span>
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
