import { api, money, short } from '../api';
import { useLoad } from '../hooks';
import { Loaded, LongId, qualityLabel } from '../ui';

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
          <p class="muted small">
            Buying an edition gives you a licence to the film in that quality, recorded on chain to your wallet.
          </p>
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
          <p class="muted small">
            Licences other owners are selling on. This page does not buy them yet: the Tangible app does, with{' '}
            <code>tangible buy-offer</code> and the offer number.
          </p>
          <Loaded load={offers} what="the offers">
            {(page) =>
              page.items.length === 0 ? (
                <p class="muted">No resale offer right now.</p>
              ) : (
                <ul class="offers">
                  {page.items.map((o) => (
                    <li key={o.offer_id} class="card">
                      <p>
                        <strong>{money(o.price_cents)}</strong> · {qualityLabel(o.quality)} licence from{' '}
                        <code title={o.seller_address}>{short(o.seller_address)}</code>
                      </p>
                      <p class="muted small">
                        Offer number <code>{o.offer_id}</code> · licence number <LongId prefix="#" value={o.licence_id} />
                      </p>
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
