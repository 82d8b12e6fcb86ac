import { useState } from 'preact/hooks';
import { api, money, short, type Film, type Offer, type Sale } from '../api';
import { useLoad, useSession } from '../hooks';
import { editionMarkets, isOwnOffer, priceSummary, servedQuality, type EditionMarket } from '../market';
import { PriceChart, saleTime } from '../PriceChart';
import { Loaded, qualityLabel } from '../ui';

export function FilmPage({ id }: { id: number }) {
  const [film, retry] = useLoad(() => api.film(id), [id]);
  // Open offers, the offers resales filled (they name the resales' editions) and the resales.
  const [market, retryMarket] = useLoad(async () => {
    const [active, filled, resales] = await Promise.all([api.offers(id), api.offers(id, 'filled'), api.resales(id)]);
    return { active, filled, resales };
  }, [id]);
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
                    {!e.active ? (
                      <span class="muted">Withdrawn</span>
                    ) : !e.served ? (
                      <NotServed />
                    ) : (
                      <a class="button" href={`/films/${f.film_id}/buy/${e.quality}`}>
                        Buy {qualityLabel(e.quality)}
                      </a>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          <h2>Resale offers</h2>
          <p class="muted small">
            Licences other owners sell on. Buying one by card gives you a new licence of that edition, recorded on chain to
            your wallet; the seller’s is retired. The price charged is the offer’s on chain, checked when you pay.
          </p>
          <Loaded load={market} what="the resale offers and price history" retry={retryMarket}>
            {(m) => <Market film={f} {...m} />}
          </Loaded>
        </section>
      )}
    </Loaded>
  );
}

type Listing<T> = { items: T[]; truncated: boolean };

/** Per edition: its open offers and its resale prices over time. */
function Market({ film, active, filled, resales }: { film: Film; active: Listing<Offer>; filled: Listing<Offer>; resales: Listing<Sale> }) {
  const { markets, unplaced } = editionMarkets(film.editions, active.items, filled.items, resales.items);
  return (
    <>
      <div class="columns market" data-testid="market">
        {markets.map((m) => (
          <EditionMarketView
            key={m.quality}
            filmId={film.film_id}
            market={m}
            served={servedQuality(film.editions, m.quality)}
          />
        ))}
      </div>
      {(active.truncated || resales.truncated || filled.truncated) && (
        <p class="muted small">Only the first 1,000 offers and resales are shown.</p>
      )}
      {unplaced > 0 && (
        <p class="muted small">
          {unplaced} resale{unplaced === 1 ? ' is' : 's are'} not shown: {unplaced === 1 ? 'its' : 'their'} offer is not
          listed yet.
        </p>
      )}
    </>
  );
}

/** An edition on sale on chain whose film Tangible does not serve: sold neither new nor resold. */
export function NotServed() {
  return (
    <span class="badge idle" data-testid="not-served" title="Tangible does not serve this edition’s film yet: it cannot be bought or played here.">
      Not available
    </span>
  );
}

function EditionMarketView({ filmId, market: m, served }: { filmId: number; market: EditionMarket; served: boolean }) {
  const s = useSession();
  const [allRows, setAllRows] = useState(false);
  const q = qualityLabel(m.quality);
  const summary = priceSummary(m.history);
  const newest = [...m.history].reverse();
  const rows = allRows ? newest : newest.slice(0, 5);
  return (
    <section class="card edition-market" data-testid={`market-${m.quality}`} aria-labelledby={`market-${m.quality}`}>
      <h3 id={`market-${m.quality}`}>
        {q} edition{m.newPrice !== null && <span class="muted small"> · {money(m.newPrice)} new</span>}
      </h3>
      {m.offers.length === 0 ? (
        <p class="muted" data-testid="no-offers">
          No resale offer for the {q} edition yet.
        </p>
      ) : (
        <div class="table-scroll">
          <table class="lines offers-table" data-testid="offers">
            <caption class="visually-hidden">Resale offers for the {q} edition, cheapest first</caption>
            <thead>
              <tr>
                <th scope="col" class="num">
                  Price
                </th>
                <th scope="col">Seller</th>
                <th scope="col">Offer</th>
                <th scope="col">
                  <span class="visually-hidden">Buy</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {m.offers.map((o) => (
                <tr key={o.offer_id} data-offer={o.offer_id}>
                  <td class="num price">{money(o.price_cents)}</td>
                  <td>
                    <code title={o.seller_address}>{short(o.seller_address)}</code>
                  </td>
                  <td>
                    <code title={`Offer ${o.offer_id} on licence #${o.licence_id}`}>{short(o.offer_id)}</code>
                  </td>
                  <td class="action">
                    {isOwnOffer(o, s?.address) ? (
                      <span class="badge">Your offer</span>
                    ) : !served ? (
                      <NotServed />
                    ) : o.below_floor ? (
                      <span
                        class="badge idle"
                        data-testid="below-floor"
                        title="Below the studio’s lowest resale price, set after this offer was listed: it cannot be bought until its seller raises the price."
                      >
                        Below floor
                      </span>
                    ) : (
                      <a
                        class="button small"
                        href={`/films/${filmId}/offers/${o.offer_id}`}
                        aria-label={`Buy the ${q} licence offered by ${short(o.seller_address)} for ${money(o.price_cents)}`}
                      >
                        Buy
                      </a>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <h4>Price history</h4>
      {!summary ? (
        <p class="muted" data-testid="no-history">
          No resale of the {q} edition yet.
        </p>
      ) : (
        <div data-testid="history">
          <p class="small">
            Last resale <strong>{money(summary.last)}</strong>
            {summary.count > 1 && (
              <>
                {' '}
                · lowest {money(summary.low)} · highest {money(summary.high)} ({summary.count} resales)
              </>
            )}
          </p>
          <PriceChart history={m.history} newPrice={m.newPrice} label={`${q} edition`} />
          <div class="table-scroll">
            <table class="lines" data-testid="history-table">
              <caption class="visually-hidden">Resales of the {q} edition, newest first</caption>
              <thead>
                <tr>
                  <th scope="col">Sold</th>
                  <th scope="col" class="num">
                    Price
                  </th>
                  <th scope="col">Transaction</th>
                </tr>
              </thead>
              <tbody>
                {rows.map((p) => (
                  <tr key={p.tx_hash + (p.offer_id ?? '')}>
                    <td>{saleTime(p.at)}</td>
                    <td class="num">{money(p.price_cents)}</td>
                    <td>
                      <code title={p.tx_hash}>{short(p.tx_hash)}</code>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          {newest.length > 5 && (
            <button type="button" class="link small" aria-expanded={allRows} onClick={() => setAllRows(!allRows)}>
              {allRows ? 'Show the last 5' : `Show all ${newest.length} resales`}
            </button>
          )}
        </div>
      )}
    </section>
  );
}
