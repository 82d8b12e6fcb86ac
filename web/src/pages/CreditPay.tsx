// The checkout's other way to pay: with the credit the wallet's resales earned. A credit order
// the wallet signs and Tangible's operator sends (`POST /v1/accounts/{address}/purchases`): the
// licence is minted at once, and the wallet needs no ETH. Shown only when the available credit
// covers the price.
import { useEffect, useState } from 'preact/hooks';
import { api, errorMessage, money, unitsToCents, type CreditOrderRelayed, type PublicConfig } from '../api';
import { useLoad } from '../hooks';
import { EARLIER_ORDER_RAN, creditOrder, forgetUnsettled, noteState, sendOrder, settles, type CreditAction } from '../orders';
import { ErrorBox, LongId } from '../ui';
import type { Session } from '../wallet';
import { SENDING, SIGNING } from './Resale';

/** What a credit purchase buys: an edition (`<film>-<quality>`) or an offer, with its order's target. */
export type CreditGood =
  | { kind: 'edition'; editionId: string; target: bigint }
  | { kind: 'offer'; offerId: string; target: bigint };

type Phase =
  | { kind: 'idle' }
  | { kind: 'busy'; step: string }
  | { kind: 'failed'; message: string; unsure: boolean }
  /** An order ran since an attempt of unknown outcome: nothing more until the page is reloaded. */
  | { kind: 'stopped'; message: string };

export function CreditPay({
  session,
  config,
  good,
  price,
  disabled,
  onPaid,
  onBusy,
}: {
  session: Session;
  config: PublicConfig;
  good: CreditGood;
  price: number;
  /** The card payment is under way. */
  disabled: boolean;
  onPaid: (r: CreditOrderRelayed) => void;
  /** Whether a payment from the balance is under way or may have run: the card must wait. */
  onBusy: (busy: boolean) => void;
}) {
  const [account, recheck] = useLoad(() => api.account(session.address), [session.address]);
  const [phase, setPhase] = useState<Phase>({ kind: 'idle' });
  // An order of this wallet posted from this browser without a known outcome (a reload while it
  // was sent, say): while its nonce is unspent it may still run, and the card waits; once spent,
  // an order ran, maybe that one: said once, the card off for this visit.
  const note = account.state === 'ok' ? noteState(session.address, account.value) : 'none';
  const unknown = note === 'unknown';
  useEffect(() => {
    if (account.state !== 'ok') return;
    if (note === 'ran') {
      forgetUnsettled(session.address);
      setPhase({ kind: 'stopped', message: EARLIER_ORDER_RAN });
    }
    if (phase.kind !== 'stopped') onBusy(note !== 'none');
  }, [account]);
  if (account.state !== 'ok') return null;
  if (unknown && phase.kind !== 'busy' && phase.kind !== 'failed')
    return (
      <div class="error" role="alert" data-testid="credit-unknown">
        <p>
          An order of this wallet sent from this browser has no known outcome yet: your balance may be paying for it. The
          card stays off until it is known; check your library.
        </p>
        <button type="button" class="secondary" onClick={recheck}>
          Check again
        </button>
      </div>
    );
  const available = unitsToCents(account.value.credit_units, account.value.units_per_cent);
  // Loaded and short of the price: nothing to offer (the marker tells a test the balance was read).
  if (available < price && phase.kind !== 'stopped') return <span hidden data-testid="credit-short" />;

  const pay = async () => {
    const action: CreditAction = good.kind === 'edition' ? 'buyEdition' : 'buyOffer';
    let sent = false;
    try {
      setPhase({ kind: 'busy', step: SIGNING });
      onBusy(true);
      const what = good.kind === 'edition' ? { edition_id: good.editionId } : { offer_id: good.offerId };
      const paid = await sendOrder(
        session,
        creditOrder(session, config, action, good.target, price),
        (signed) => api.creditPurchase(session.address, what, price, signed),
        () => {
          sent = true;
          setPhase({ kind: 'busy', step: SENDING });
        },
      );
      onPaid(paid);
    } catch (e) {
      // Refused before anything ran: the card is free to pay. Otherwise the balance may have
      // paid (or may still): the card stays off, and a retry here says how it ended.
      if (e instanceof Error && e.message === EARLIER_ORDER_RAN) {
        setPhase({ kind: 'stopped', message: e.message });
        return; // the card stays off too
      }
      const unsure = sent && !settles(e);
      if (!unsure) onBusy(false);
      setPhase({ kind: 'failed', message: errorMessage(e), unsure });
    }
  };
  const busy = phase.kind === 'busy';
  return (
    <div class="card" data-testid="credit-pay">
      <h2>Pay with your balance</h2>
      <p>
        Your resales earned you <strong data-testid="credit-available">{money(available, config.currency)}</strong>: enough for
        this licence, with no card.
      </p>
      <button type="button" disabled={busy || disabled || phase.kind === 'stopped'} onClick={() => void pay()}>
        Pay {money(price, config.currency)} from your balance
      </button>
      {phase.kind === 'busy' && (
        <p role="status" aria-live="polite" class="small">
          <span class="spinner" aria-hidden="true" /> {phase.step}
        </p>
      )}
      {phase.kind === 'failed' && (
        <ErrorBox>
          {phase.message}
          {phase.unsure &&
            ' Your balance may still pay for it: the card stays off. Pressing this button again is safe: both attempts carry the same order number, so at most one can run.'}
        </ErrorBox>
      )}
      {phase.kind === 'stopped' && (
        <div class="error" role="alert" data-testid="credit-stopped">
          <p>{phase.message}</p>
          <p>
            <a href="/library">Open your library</a>
          </p>
        </div>
      )}
    </div>
  );
}

/** A credit purchase done: the licence minted, and its transaction. */
export function CreditPaid({ paid }: { paid: CreditOrderRelayed }) {
  return (
    <div class="success" data-testid="credit-fulfilled" role="status">
      <p>
        <strong>It’s yours.</strong> Paid from your balance; the licence is in your wallet and your library.
      </p>
      <p class="small">
        Licence number <LongId prefix="#" value={paid.licence_id ?? ''} />
      </p>
      <p class="muted small">
        Recorded on chain in transaction <LongId value={paid.tx_hash} />
      </p>
      <a class="button" href="/library">
        Go to your library
      </a>
    </div>
  );
}
