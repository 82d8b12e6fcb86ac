import { api, money, short } from '../api';
import { useLoad } from '../hooks';
import { Loaded, qualityLabel } from '../ui';

export function FilmPage({ id }: { id: number }) {
  const [film, retry] = useLoad(() => api.film(id), [id]);
  const [offers] = useLoad(() => api.offers(id), [id]);
  return (
    <Loaded load={film} what="the film" retry={retry}>
      {(f) => (
        <section>
          <p>
            <a href="/">← Catalogue</a>
          </p>
          <h1>{f.title}</h1>
          <p class="muted">
            {f.studio_name} · {f.year}
          </p>
          <h2>Editions</h2>
          <table class="editions">
            <thead>
              <tr>
                <th scope="col">Quality</th>
                <th scope="col">Price</th>
                <th scope="col">
                  <span class="visually-hidden">Buy</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {f.editions.map((e) => (
                <tr key={e.quality}>
                  <td>{qualityLabel(e.quality)}</td>
                  <td>{money(e.price_cents)}</td>
                  <td>
                    {e.active ? (
                      <a class="button" href={`/films/${f.film_id}/buy/${e.quality}`}>
                        Buy {qualityLabel(e.quality)}
                      </a>
                    ) : (
                      <span class="muted">Withdrawn</span>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          <h2>Resale offers</h2>
          <Loaded load={offers} what="the offers">
            {(page) =>
              page.items.length === 0 ? (
                <p class="muted">No resale offer right now.</p>
              ) : (
                <ul class="offers">
                  {page.items.map((o) => (
                    <li key={o.offer_id}>
                      {qualityLabel(o.quality)} licence #{o.licence_id} from {short(o.seller_address)} —{' '}
                      <strong>{money(o.price_cents)}</strong>
                    </li>
                  ))}
                </ul>
              )
            }
          </Loaded>
        </section>
      )}
    </Loaded>
  );
}
