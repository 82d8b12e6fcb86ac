// A licence's resale box in the library: put it on sale, change the price, withdraw the offer.
// Each is an EIP-712 order the wallet signs and Tangible's operator sends (`POST`, `PATCH`,
// `DELETE /v1/offers`), so a buyer who paid by card and holds no ETH resells all the same.
import { useState } from 'preact/hooks';
import { api, errorMessage, money, type Licence, type OrderRelayed, type PublicConfig, type SignedPart } from '../api';
import { MIN_RESALE_CENTS, resaleSplit } from '../market';
import { resaleOrder, sendOrder, type ResaleAction } from '../orders';
import { parsePrice } from '../studio/model';
import { ErrorBox, LongId } from '../ui';
import type { Session } from '../wallet';

/** The licence's open offer: the mirror's when the page loaded, then what this page relayed. */
export interface OpenOffer {
  offerId: string;
  priceCents: number;
}

/** Where an order stands; `done` names the operator's transaction. */
export type RelayPhase =
  | { kind: 'idle' }
  | { kind: 'busy'; step: string }
  | { kind: 'done'; message: string; tx: string }
  | { kind: 'failed'; message: string };

export const SIGNING = 'Signing the order with your wallet…';
export const SENDING = 'Recording it on chain…';

/** A chain time (Unix seconds) as a date and time. */
export function chainDate(secs: number): string {
  return new Date(secs * 1000).toLocaleString([], { dateStyle: 'medium', timeStyle: 'short' });
}

/** The progress, outcome or failure of a relayed order. */
export function RelayStatus({ phase, testid }: { phase: RelayPhase; testid: string }) {
  if (phase.kind === 'busy')
    return (
      <p role="status" aria-live="polite" class="small">
        <span class="spinner" aria-hidden="true" /> {phase.step}
      </p>
    );
  if (phase.kind === 'failed') return <ErrorBox>{phase.message}</ErrorBox>;
  if (phase.kind === 'done')
    return (
      <div class="success small" role="status" data-testid={testid}>
        <p class="wrap">{phase.message}</p>
        <p class="muted">
          Transaction <LongId value={phase.tx} />
        </p>
      </div>
    );
  return null;
}

export function Resale({
  licence,
  offer,
  chainTime,
  floorCents,
  config,
  session,
}: {
  licence: Licence;
  offer: OpenOffer | null;
  /** The chain's clock when the page loaded (holds end in chain time). */
  chainTime: number;
  /** The edition's resale floor set by its studio, cents (0: none). */
  floorCents: number;
  config: PublicConfig;
  session: Session;
}) {
  const [open, setOpen] = useState(offer);
  const [input, setInput] = useState(offer ? (offer.priceCents / 100).toFixed(2) : '');
  const [touched, setTouched] = useState(false);
  const [phase, setPhase] = useState<RelayPhase>({ kind: 'idle' });
  const holdUntil = licence.hold_until ? Math.floor(Date.parse(licence.hold_until) / 1000) : 0;
  if (holdUntil > chainTime)
    return (
      <p class="muted small" data-testid="resale-hold">
        You can resell this licence from {chainDate(holdUntil)}: until then, the card payment that bought it can still be
        disputed.
      </p>
    );

  const parsed = parsePrice(input);
  // The contract refuses a price under the market's minimum or the studio's floor.
  const least = Math.max(MIN_RESALE_CENTS, floorCents);
  const problem =
    'error' in parsed
      ? parsed.error
      : parsed.cents < least
        ? floorCents > MIN_RESALE_CENTS
          ? `This film's studio sets the lowest resale price at ${money(least)}.`
          : `A resale costs at least ${money(least)}.`
        : null;
  const cents = 'cents' in parsed ? parsed.cents : 0;
  const busy = phase.kind === 'busy';
  const currency = config.currency;

  const send = async (action: ResaleAction) => {
    if (action !== 'cancel' && problem) {
      setTouched(true);
      return;
    }
    const price = action === 'cancel' ? 0 : cents;
    const target = action === 'list' || !open ? licence.licence_id : open.offerId;
    try {
      setPhase({ kind: 'busy', step: SIGNING });
      const seller = session.address;
      const post = (signed: SignedPart): Promise<OrderRelayed> =>
        action === 'list'
          ? api.listOffer(seller, target, price, signed)
          : action === 'reprice'
            ? api.repriceOffer(seller, target, price, signed)
            : api.cancelOffer(seller, target, signed);
      const r = await sendOrder(session, resaleOrder(session, config, action, target, price), post, () =>
        setPhase({ kind: 'busy', step: SENDING }),
      );
      if (action === 'cancel') {
        setOpen(null);
        setPhase({ kind: 'done', message: 'Your offer is withdrawn: the licence is no longer for sale.', tx: r.tx_hash });
      } else {
        setOpen({ offerId: r.offer_id, priceCents: price });
        setPhase({
          kind: 'done',
          message:
            action === 'list'
              ? `On sale for ${money(price, currency)}: buyers see your offer on the film's page.`
              : `The price of your offer is now ${money(price, currency)}.`,
          tx: r.tx_hash,
        });
      }
    } catch (e) {
      setPhase({ kind: 'failed', message: errorMessage(e) });
    }
  };

  const split = resaleSplit(cents);
  const id = `price-${licence.licence_id.slice(-12)}`;
  return (
    <div class="resale" data-testid="resale">
      {open ? (
        <p>
          On sale for <strong data-testid="offer-price">{money(open.priceCents, currency)}</strong> ·{' '}
          <a href={`/films/${licence.film_id}/offers/${open.offerId}`} data-testid="offer-link">
            your offer
          </a>
        </p>
      ) : (
        <h3>Sell this licence</h3>
      )}
      {floorCents > MIN_RESALE_CENTS && (
        <p class="muted small" data-testid="resale-floor">
          Lowest resale price, set by the film's studio: {money(floorCents, currency)}
          {open && open.priceCents < floorCents ? ' — your offer is below it and cannot sell until you raise its price.' : '.'}
        </p>
      )}
      <form
        class="row"
        noValidate
        onSubmit={(e) => {
          e.preventDefault();
          void send(open ? 'reprice' : 'list');
        }}
      >
        <label class="field" for={id}>
          {open ? 'New price (€)' : 'Price (€)'}
          <input
            id={id}
            name="price"
            class="narrow"
            inputMode="decimal"
            autoComplete="off"
            value={input}
            aria-invalid={touched && !!problem}
            onInput={(e) => setInput(e.currentTarget.value)}
            onBlur={() => setTouched(true)}
          />
        </label>
        <button type="submit" disabled={busy}>
          {open ? 'Change the price' : 'Put on sale'}
        </button>
        {open && (
          <button type="button" class="secondary" disabled={busy} onClick={() => void send('cancel')}>
            Withdraw the offer
          </button>
        )}
      </form>
      {touched && problem ? (
        <p class="field-error">{problem}</p>
      ) : (
        cents >= least && (
          <p class="muted small" data-testid="resale-split">
            When it sells you receive {money(split.seller, currency)}; the studio {money(split.studio, currency)} (15 %) and
            Tangible {money(split.platform, currency)} (5 %). Your wallet needs no ETH: you sign, Tangible sends it.
          </p>
        )
      )}
      <RelayStatus phase={phase} testid="resale-done" />
    </div>
  );
}
