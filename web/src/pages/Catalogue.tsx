import { useEffect, useState } from 'preact/hooks';
import { api, money } from '../api';
import { useLoad } from '../hooks';
import { Loaded, qualityLabel } from '../ui';

export function Catalogue() {
  const initial = new URLSearchParams(location.search).get('q') ?? '';
  const [input, setInput] = useState(initial);
  const [q, setQ] = useState(initial);
  const [films, retry] = useLoad(() => api.films(q), [q]);
  useEffect(() => void (films.state === 'ok' && performance.mark('tangible:catalogue-rendered')), [films]); // make bench
  const submit = (e: Event) => {
    e.preventDefault();
    const v = input.trim();
    setQ(v);
    history.replaceState(null, '', v ? `/?q=${encodeURIComponent(v)}` : '/');
  };
  return (
    <section>
      <h1>Films to own</h1>
      <form class="search" role="search" onSubmit={submit}>
        <label for="q" class="visually-hidden">
          Search films
        </label>
        <input
          id="q"
          type="search"
          placeholder="Search by title or studio"
          value={input}
          maxLength={100}
          onInput={(e) => setInput((e.target as HTMLInputElement).value)}
        />
        <button type="submit">Search</button>
      </form>
      <Loaded load={films} what="the catalogue" retry={retry}>
        {(page) =>
          page.items.length === 0 ? (
            <p class="muted">{q ? `No film matches "${q}".` : 'No films yet.'}</p>
          ) : (
            <ul class="grid" data-testid="films">
              {page.items.map((f) => {
                const on = f.editions.filter((e) => e.active);
                const from = on.length ? Math.min(...on.map((e) => e.price_cents)) : null;
                return (
                  <li key={f.film_id} class="card">
                    <a href={`/films/${f.film_id}`} class="card-link">
                      <div class="poster" aria-hidden="true">
                        {f.title.slice(0, 1)}
                      </div>
                      <h2>{f.title}</h2>
                    </a>
                    <p class="muted">
                      {f.studio_name} · {f.year}
                    </p>
                    <p>
                      {on.map((e) => (
                        <span class="badge" key={e.quality}>
                          {qualityLabel(e.quality)}
                        </span>
                      ))}
                    </p>
                    <p class="price">{from === null ? 'Not on sale' : `from ${money(from)}`}</p>
                  </li>
                );
              })}
            </ul>
          )
        }
      </Loaded>
    </section>
  );
}
