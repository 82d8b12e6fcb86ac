// The studio's royalty statement for a period: totals, a chart of sales over time, the sales
// and the API's CSV for the same period.
import { useState } from 'preact/hooks';
import { api, money, short, statementCsvUrl } from '../api';
import { useLoad } from '../hooks';
import { Loaded } from '../ui';
import { SalesChart } from './Chart';
import { focusFirstInvalid, value } from './forms';
import { buckets, day, periodOf } from './model';

export function StatementPage({ id }: { id: number }) {
  const today = new Date();
  const params = new URLSearchParams(location.search);
  const [from, setFrom] = useState(params.get('from') ?? day(new Date(today.getTime() - 29 * 86_400_000)));
  const [to, setTo] = useState(params.get('to') ?? day(today));
  const [shown, setShown] = useState({ from, to });
  const [error, setError] = useState('');
  const period = periodOf(shown.from, shown.to);
  const [st, retry] = useLoad(async () => {
    if ('error' in period) throw new Error(period.error);
    return api.statement(id, period.from, period.to);
  }, [id, shown.from, shown.to]);
  const submit = (e: Event) => {
    e.preventDefault();
    const p = periodOf(from, to);
    if ('error' in p) {
      setError(p.error);
      return focusFirstInvalid(e);
    }
    setError('');
    setShown({ from, to });
    history.replaceState(null, '', `/studio/${id}/statement?from=${from}&to=${to}`);
  };
  return (
    <section>
      <p>
        <a href={`/studio/${id}`}>← Studio #{id}</a>
      </p>
      <h1>Royalty statement · studio #{id}</h1>
      <form class="period" onSubmit={submit} noValidate aria-label="Period">
        <div class="field">
          <label for="from">First day</label>
          <input id="from" type="date" name="from" value={from} aria-invalid={!!error} onInput={(e) => setFrom(value(e))} />
        </div>
        <div class="field">
          <label for="to">Last day</label>
          <input id="to" type="date" name="to" value={to} aria-invalid={!!error} onInput={(e) => setTo(value(e))} />
        </div>
        <button type="submit">Show</button>
        <button type="button" class="secondary" onClick={retry}>
          Refresh
        </button>
      </form>
      {error && (
        <p class="field-error" role="alert">
          {error}
        </p>
      )}
      <p class="muted small">Days in UTC, both included. Sales appear once their block is indexed, within seconds.</p>
      <Loaded load={st} what="the statement" retry={retry}>
        {(v) => {
          if ('error' in period) return null;
          const csv = statementCsvUrl(id, period.from, period.to);
          return (
            <>
              <dl class="totals" data-testid="statement-totals">
                <div>
                  <dt>Sales</dt>
                  <dd data-testid="statement-sales">{v.sales}</dd>
                </div>
                <div>
                  <dt>Gross</dt>
                  <dd data-testid="statement-gross">{money(v.gross_cents)}</dd>
                </div>
                <div class="studio-share">
                  <dt>Studio’s share</dt>
                  <dd data-testid="statement-studio">{money(v.studio_cents)}</dd>
                </div>
                <div>
                  <dt>Platform</dt>
                  <dd>{money(v.platform_cents)}</dd>
                </div>
                {v.seller_cents > 0 && (
                  <div>
                    <dt>Resellers</dt>
                    <dd>{money(v.seller_cents)}</dd>
                  </div>
                )}
              </dl>
              <p>
                <a class="button secondary" href={csv} download={`statement-studio-${id}-${shown.from}-${shown.to}.csv`} data-testid="csv">
                  Download CSV
                </a>
              </p>
              <h2>Sales over time</h2>
              <SalesChart data={buckets(v.lines, period.from, period.to)} />
              <h2>Sales</h2>
              {v.lines.length === 0 ? (
                <p class="muted">No sale in this period.</p>
              ) : (
                <div class="table-scroll">
                  <table class="lines" data-testid="statement-lines">
                    <thead>
                      <tr>
                        <th scope="col">Date</th>
                        <th scope="col">Film</th>
                        <th scope="col">Kind</th>
                        <th scope="col" class="num">Price</th>
                        <th scope="col" class="num">Studio’s share</th>
                        <th scope="col">Transaction</th>
                      </tr>
                    </thead>
                    <tbody>
                      {v.lines.map((l) => (
                        <tr key={`${l.tx_hash}-${l.log_index}`}>
                          <td>{l.block_timestamp ? new Date(l.block_timestamp).toLocaleString('en-GB', { timeZone: 'UTC' }) : '—'}</td>
                          <td>{l.film_id === null ? '—' : <a href={`/films/${l.film_id}`}>#{l.film_id}</a>}</td>
                          <td>{l.kind === 'resale' ? 'Resale' : 'Sale'}</td>
                          <td class="num">{money(l.price_cents)}</td>
                          <td class="num">{money(l.studio_cents)}</td>
                          <td>
                            <code title={l.tx_hash}>{short(l.tx_hash)}</code>
                          </td>
                        </tr>
                      ))}
                    </tbody>
                  </table>
                </div>
              )}
            </>
          );
        }}
      </Loaded>
    </section>
  );
}
