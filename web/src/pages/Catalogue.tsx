import { useEffect, useState } from 'preact/hooks';
import { api, money, type CatalogueFilters } from '../api';
import { useLoad } from '../hooks';
import { soldNew } from '../market';
import { parsePrice } from '../studio/model';
import { Loaded, qualityLabel } from '../ui';

const QUALITIES = ['sd', 'hd', '4k'];

/** The search and filters in the address (`?q=&quality=&max=`), so that a filtered list can be shared and reloaded. */
function fromAddress(): { q: string; quality: string; max: string } {
  const p = new URLSearchParams(location.search);
  const quality = p.get('quality') ?? '';
  const max = p.get('max') ?? '';
  // A filter the page cannot apply is dropped, not shown as if it were applied.
  return {
    q: p.get('q') ?? '',
    quality: QUALITIES.includes(quality) ? quality : '',
    max: max && 'cents' in parsePrice(max) ? max : '',
  };
}

export function Catalogue() {
  const initial = fromAddress();
  const [input, setInput] = useState(initial.q);
  const [quality, setQuality] = useState(initial.quality);
  const [maxInput, setMaxInput] = useState(initial.max);
  const [applied, setApplied] = useState(initial);
  const maxParsed = applied.max ? parsePrice(applied.max) : null;
  const filters: CatalogueFilters = {
    ...(applied.quality ? { quality: applied.quality } : {}),
    ...(maxParsed && 'cents' in maxParsed ? { maxPrice: maxParsed.cents } : {}),
  };
  const [films, retry] = useLoad(() => api.films(applied.q, filters), [applied.q, applied.quality, applied.max]);
  useEffect(() => void (films.state === 'ok' && performance.mark('tangible:catalogue-rendered')), [films]); // make bench
  const maxProblem = maxInput.trim() && 'error' in parsePrice(maxInput) ? 'Enter a price in euros, like 10 or 9.90.' : null;
  const apply = (next: { q: string; quality: string; max: string }) => {
    if (next.max.trim() && 'error' in parsePrice(next.max)) return;
    setApplied(next);
    const p = new URLSearchParams();
    if (next.q) p.set('q', next.q);
    if (next.quality) p.set('quality', next.quality);
    if (next.max.trim()) p.set('max', next.max.trim());
    history.replaceState(null, '', p.size ? `/?${p}` : '/');
  };
  const submit = (e: Event) => {
    e.preventDefault();
    apply({ q: input.trim(), quality, max: maxInput.trim() });
  };
  const filtered = applied.q || applied.quality || applied.max;
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
      <form class="filters" aria-label="Filters" onSubmit={submit} noValidate>
        <label class="field">
          Quality
          <select
            name="quality"
            value={quality}
            onChange={(e) => {
              const v = e.currentTarget.value;
              setQuality(v);
              apply({ ...applied, quality: v });
            }}
          >
            <option value="">Any</option>
            {QUALITIES.map((q) => (
              <option value={q} key={q}>
                {qualityLabel(q)}
              </option>
            ))}
          </select>
        </label>
        <label class="field">
          Up to (€)
          <input
            name="max"
            class="narrow"
            inputMode="decimal"
            autoComplete="off"
            value={maxInput}
            aria-invalid={!!maxProblem}
            onInput={(e) => setMaxInput(e.currentTarget.value)}
          />
        </label>
        <button type="submit" class="secondary">
          Apply
        </button>
        {filtered && (
          <button
            type="button"
            class="link"
            onClick={() => {
              setInput('');
              setQuality('');
              setMaxInput('');
              apply({ q: '', quality: '', max: '' });
            }}
          >
            Clear
          </button>
        )}
      </form>
      {maxProblem && <p class="field-error">{maxProblem}</p>}
      <Loaded load={films} what="the catalogue" retry={retry}>
        {(page) =>
          page.items.length === 0 ? (
            <p class="muted" data-testid="no-film">
              {filtered ? 'No film matches this search.' : 'No films yet.'}
            </p>
          ) : (
            <ul class="grid" data-testid="films">
              {page.items.map((f) => {
                const on = f.editions.filter(soldNew);
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
