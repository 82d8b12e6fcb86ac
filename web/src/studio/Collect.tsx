// "Collect royalties" on a studio's page: the studio's cleared earnings (primary sales and its 15 %
// of resales, once card money has cleared) paid to its royalty recipient. The API's operator sends
// the transaction, so the studio admin's wallet needs no ETH.
import { useState } from 'preact/hooks';
import { ApiError, api, money, short, unitsToCents } from '../api';
import { ErrorBox, LongId } from '../ui';
import { studioError, type Signed } from './forms';

type Phase =
  | { kind: 'idle' }
  | { kind: 'busy' }
  | { kind: 'paid'; cents: number; to: string; tx: string }
  | { kind: 'nothing'; message: string }
  | { kind: 'failed'; message: string };

export function CollectRoyalties({ studioId, s }: { studioId: number; s: Signed }) {
  const [phase, setPhase] = useState<Phase>({ kind: 'idle' });
  const collect = async () => {
    setPhase({ kind: 'busy' });
    try {
      const done = await api.studioWithdraw(s.login.token, studioId);
      // The amount is in stablecoin units; the recipient's account view says how many make a cent.
      const view = await api.account(done.to_address);
      setPhase({ kind: 'paid', cents: unitsToCents(done.amount_units, view.units_per_cent), to: done.to_address, tx: done.tx_hash });
    } catch (err) {
      if (err instanceof ApiError && err.code === 'insufficient_credit')
        setPhase({
          kind: 'nothing',
          message: 'Nothing to collect yet: card sales pay out once their clearance period (the card dispute window) has passed.',
        });
      else setPhase({ kind: 'failed', message: `The royalties were not collected: ${studioError(err)}` });
    }
  };
  return (
    <div class="card collect" data-testid="collect">
      <h2>Royalties</h2>
      <p class="muted small">
        Cleared earnings are paid in stablecoin to the studio's royalty address. Tangible sends the transaction: your wallet
        needs no ETH.
      </p>
      <button type="button" disabled={phase.kind === 'busy'} onClick={() => void collect()}>
        {phase.kind === 'busy' ? 'Collecting…' : 'Collect royalties'}
      </button>
      {phase.kind === 'paid' && (
        <div class="success small" role="status" data-testid="collected">
          <p>
            {money(phase.cents)} paid to <code title={phase.to}>{short(phase.to)}</code>.
          </p>
          <p class="muted">
            Transaction <LongId value={phase.tx} />
          </p>
        </div>
      )}
      {phase.kind === 'nothing' && (
        <p class="notice small" role="status" data-testid="collect-nothing">
          {phase.message}
        </p>
      )}
      {phase.kind === 'failed' && <ErrorBox>{phase.message}</ErrorBox>}
    </div>
  );
}
