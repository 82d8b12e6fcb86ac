// The operator console's float: the operator's balance in the market, its alert threshold, the
// day's card settlements and its latest movements.
import { useState } from 'preact/hooks';
import { money, short, type FloatView } from '../api';
import type { Load } from '../hooks';
import { Loaded } from '../ui';
import { movementLabel, signedMoney, when } from './model';
import { Cell, Section, Table, Tx } from './parts';

/** The float's movements shown until "Show all". */
const SHOWN_MOVEMENTS = 10;

export function FloatSection({ load, retry }: { load: Load<FloatView>; retry: () => void }) {
  const [all, setAll] = useState(false);
  return (
    <Section
      id="ops-float"
      title="Float"
      testid="operator-float"
      intro="The operator's balance in the market: card settlements are paid from it, on chain."
    >
      <Loaded load={load} what="the float" retry={retry}>
        {(f) => {
          const shown = all ? f.movements : f.movements.slice(0, SHOWN_MOVEMENTS);
          return (
            <>
              <dl class="totals float-totals">
                <div class={f.low ? 'low' : undefined} data-testid="float-summary">
                  <dt>Balance</dt>
                  <dd>
                    <span data-testid="float-balance">{money(f.balance_cents)}</span>{' '}
                    {f.low && (
                      <span class="badge danger" data-testid="float-low">
                        LOW
                      </span>
                    )}
                  </dd>
                </div>
                <div>
                  <dt>Alert threshold</dt>
                  <dd data-testid="float-warning">{money(f.warning_cents)}</dd>
                </div>
                <div>
                  <dt>Card settled today</dt>
                  <dd data-testid="float-daily">
                    {money(f.settled_today_cents)} of {money(f.daily_limit_cents)} a day
                  </dd>
                </div>
                <div>
                  <dt>Operator account</dt>
                  <dd class="small">
                    <code title={f.operator}>{short(f.operator)}</code>
                  </dd>
                </div>
              </dl>
              {f.low && (
                <div class="error" role="alert">
                  <p>
                    <strong>The float is low:</strong> {money(f.balance_cents)} is below the alert threshold of{' '}
                    {money(f.warning_cents)}. Deposit more before card settlements fail.
                  </p>
                </div>
              )}
              <h3>Latest movements</h3>
              {f.movements.length === 0 ? (
                <p class="muted" data-testid="float-no-movement">
                  No movement yet.
                </p>
              ) : (
                <>
                  <Table compact testid="float-movements" caption="Latest movements of the float" head={['Kind', '#Amount', '#Balance after', 'Time', 'Transaction']}>
                    {shown.map((m, i) => (
                      <tr key={`${m.tx_hash ?? ''}-${i}`} data-kind={m.kind}>
                        <Cell label="Kind">{movementLabel(m.kind)}</Cell>
                        <Cell label="Amount" class={`num ${m.cents < 0 ? 'out' : 'in'}`}>
                          {signedMoney(m.cents)}
                        </Cell>
                        <Cell label="Balance after" class="num">
                          {money(m.balance_after_cents)}
                        </Cell>
                        <Cell label="Time">{when(m.at)}</Cell>
                        <Cell label="Transaction">
                          <Tx hash={m.tx_hash} />
                        </Cell>
                      </tr>
                    ))}
                  </Table>
                  {f.movements.length > SHOWN_MOVEMENTS && (
                    <p>
                      <button type="button" class="link" data-testid="float-show-all" aria-expanded={all} onClick={() => setAll(!all)}>
                        {all ? `Show the latest ${SHOWN_MOVEMENTS}` : `Show all ${f.movements.length} movements`}
                      </button>
                    </p>
                  )}
                </>
              )}
            </>
          );
        }}
      </Loaded>
    </Section>
  );
}
