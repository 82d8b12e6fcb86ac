import type { ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import {
  ApiError,
  SETTLED_PURCHASE_STATES,
  api,
  errorMessage,
  money,
  short,
  type CreditOrderRelayed,
  type PublicConfig,
  type Purchase,
  type PurchaseCreated,
} from '../api';
import { useLoad, useSession } from '../hooks';
import { isOwnOffer, servedQuality } from '../market';
import { editionTarget } from '../orders';
import { loadStripe, type CardElement, type StripeClient } from '../stripe';
import { ErrorBox, Loaded, Loading, LongId, qualityLabel } from '../ui';
import type { Session } from '../wallet';
import { CreditPaid, CreditPay, type CreditGood } from './CreditPay';

type Phase =
  | { kind: 'form' }
  | { kind: 'paying'; step: string }
  | { kind: 'declined'; message: string }
  | { kind: 'failed'; message: string }
  | { kind: 'repriced'; from: number }
  | { kind: 'progress'; purchase: Purchase | null };

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function Checkout({ filmId, quality }: { filmId: number; quality: string }) {
  const s = useSession();
  const [data, retry] = useLoad(async () => {
    const [film, config] = await Promise.all([api.film(filmId), api.config()]);
    return { film, config };
  }, [filmId]);
  return (
    <Loaded load={data} what="the checkout" retry={retry}>
      {({ film, config }) => {
        const edition = film.editions.find((e) => e.quality === quality);
        if (!edition) return <ErrorBox>This film has no {quality} edition.</ErrorBox>;
        if (!edition.active) return <ErrorBox>The {qualityLabel(quality)} edition is withdrawn from sale.</ErrorBox>;
        if (!edition.served)
          return <ErrorBox>The {qualityLabel(quality)} edition’s film is not available from Tangible yet: it cannot be bought.</ErrorBox>;
        if (!config.stripe_publishable_key) return <ErrorBox>Card payments are not configured on this server.</ErrorBox>;
        if (!s)
          return (
            <NeedWallet filmId={filmId} heading={`Buy ${film.title} in ${qualityLabel(quality)}`} title={film.title}>
              {money(edition.price_cents, config.currency)}
            </NeedWallet>
          );
        const buyer = s.address;
        return (
          <CardCheckout
            title={film.title}
            filmId={filmId}
            quality={quality}
            price={edition.price_cents}
            currency={config.currency}
            buyer={buyer}
            stripeUrl={config.stripe_js_url}
            publishableKey={config.stripe_publishable_key}
            reserve={() => api.buy(filmId, quality, buyer)}
            newPurchaseAfterDecline
            credit={{
              session: s,
              config,
              good: { kind: 'edition', editionId: `${filmId}-${quality}`, target: editionTarget(filmId, quality) },
            }}
          />
        );
      }}
    </Loaded>
  );
}

/** The checkout's page before a wallet is unlocked: the total, and the way to the wallet page and back. */
function NeedWallet({ filmId, title, heading, children }: { filmId: number; title: string; heading: string; children: ComponentChildren }) {
  return (
    <section>
      <p>
        <a href={`/films/${filmId}`}>← {title}</a>
      </p>
      <h1>{heading}</h1>
      <p class="total">
        Total <strong>{children}</strong>
      </p>
      <p>
        The licence you buy is kept in your wallet: a key in this browser protected by your password, or a wallet extension.{' '}
        <a href={`/wallet?next=${encodeURIComponent(location.pathname)}`}>Unlock or create your wallet</a> to buy; you come
        back here afterwards.
      </p>
    </section>
  );
}

/**
 * A resale offer bought by card: the same hosted checkout as an edition, for a purchase of the
 * offer (`POST /v1/offers/{id}/purchases`). The API prices it from the chain; the price shown
 * here is the listing's, and a different amount is shown before any card is charged.
 */
export function OfferCheckout({ filmId, offerId }: { filmId: number; offerId: string }) {
  const s = useSession();
  const [data, retry] = useLoad(async () => {
    const [film, config, offers] = await Promise.all([api.film(filmId), api.config(), api.offers(filmId)]);
    return { film, config, offer: offers.items.find((o) => o.offer_id === offerId) ?? null };
  }, [filmId, offerId]);
  return (
    <Loaded load={data} what="the checkout" retry={retry}>
      {({ film, config, offer }) => {
        const back = (
          <p>
            <a href={`/films/${filmId}`}>← {film.title}: editions and other offers</a>
          </p>
        );
        if (!offer)
          return (
            <section>
              {back}
              <h1>Offer {offerId} is not open</h1>
              <p data-testid="offer-closed">
                This offer is no longer for sale: another buyer took it, or its seller withdrew it.
              </p>
            </section>
          );
        const heading = `Buy ${film.title} in ${qualityLabel(offer.quality)} from another owner`;
        if (!servedQuality(film.editions, offer.quality))
          return (
            <ErrorBox>The {qualityLabel(offer.quality)} edition’s film is not available from Tangible yet: its licences cannot be bought.</ErrorBox>
          );
        if (!config.stripe_publishable_key) return <ErrorBox>Card payments are not configured on this server.</ErrorBox>;
        if (!s)
          return (
            <NeedWallet filmId={filmId} heading={heading} title={film.title}>
              {money(offer.price_cents, config.currency)}
            </NeedWallet>
          );
        if (isOwnOffer(offer, s.address))
          return (
            <section>
              {back}
              <h1>{heading}</h1>
              <p data-testid="own-offer">This is your own offer: the licence is already yours.</p>
            </section>
          );
        const buyer = s.address;
        return (
          <CardCheckout
            title={film.title}
            filmId={filmId}
            quality={offer.quality}
            price={offer.price_cents}
            currency={config.currency}
            buyer={buyer}
            seller={offer.seller_address}
            stripeUrl={config.stripe_js_url}
            publishableKey={config.stripe_publishable_key}
            reserve={() => api.buyOffer(offer.offer_id, buyer)}
            newPurchaseAfterDecline
            credit={{ session: s, config, good: { kind: 'offer', offerId: offer.offer_id, target: BigInt(offer.offer_id) } }}
          />
        );
      }}
    </Loaded>
  );
}

/** The card form and the purchase's progress, for a purchase `reserve` creates (or names). */
export function CardCheckout(p: {
  title: string;
  filmId: number;
  quality: string;
  price: number;
  currency: string;
  buyer: string;
  stripeUrl: string;
  publishableKey: string;
  /** A resale: the offer's seller (the licence is theirs until the sale settles). */
  seller?: string;
  /**
   * The purchase to pay: a new one from this page (with the `amount` the API priced), or the
   * one a `tangible buy --card` made.
   */
  reserve: () => Promise<Pick<PurchaseCreated, 'purchase_id' | 'client_secret'> & { amount?: number }>;
  /**
   * After a decline, pay a new purchase (emulators refuse a second card on a declined intent);
   * otherwise the same one is tried again.
   */
  newPurchaseAfterDecline?: boolean;
  /** Paid for `tangible buy --card`: the licence goes to the command's wallet. */
  fromCli?: boolean;
  /** The other way to pay, when the buyer's wallet is this page's: its credit on the market. */
  credit?: { session: Session; config: PublicConfig; good: CreditGood };
}) {
  const mount = useRef<HTMLDivElement>(null);
  const stripe = useRef<{ client: StripeClient; card: CardElement } | null>(null);
  const purchase = useRef<Pick<PurchaseCreated, 'purchase_id' | 'client_secret'> | null>(null);
  const [ready, setReady] = useState<'loading' | 'ok' | string>('loading');
  const [phase, setPhase] = useState<Phase>({ kind: 'form' });
  // What is charged is the API's amount: shown before paying when it differs from the listing's.
  const [price, setPrice] = useState(p.price);
  const [paidByCredit, setPaidByCredit] = useState<CreditOrderRelayed | null>(null);
  // A payment from the balance under way, or of unknown outcome: the card must not pay too.
  const [creditBusy, setCreditBusy] = useState(false);
  // A card payment sent whose outcome is not known to be a decline: the balance must not pay too.
  const [cardSent, setCardSent] = useState(false);
  useEffect(() => void (ready === 'ok' && performance.mark('tangible:checkout-ready')), [ready]); // make bench

  useEffect(() => {
    let card: CardElement | null = null;
    loadStripe(p.stripeUrl).then(
      (Stripe) => {
        if (!mount.current) return;
        const client = Stripe(p.publishableKey);
        card = client.elements().create('card');
        card.mount(mount.current);
        stripe.current = { client, card };
        setReady('ok');
      },
      (e: unknown) => setReady(errorMessage(e)),
    );
    return () => card?.destroy();
  }, [p.stripeUrl, p.publishableKey]);

  const pay = async (e: Event) => {
    e.preventDefault();
    const st = stripe.current;
    if (!st) return;
    try {
      setPhase({ kind: 'paying', step: 'Reserving your purchase…' });
      if (!purchase.current) {
        const created = await p.reserve();
        purchase.current = created;
        if (created.amount !== undefined && created.amount !== price) {
          setPrice(created.amount);
          setPhase({ kind: 'repriced', from: price });
          return;
        }
      }
      const pc = purchase.current;
      setPhase({ kind: 'paying', step: 'Checking your card…' });
      const { token, error } = await st.client.createToken(st.card);
      if (error || !token) {
        setPhase({ kind: 'declined', message: error?.message ?? 'The card details are incomplete.' });
        return;
      }
      setPhase({ kind: 'paying', step: 'Charging your card…' });
      setCardSent(true);
      let result;
      try {
        result = await api.pay(pc.purchase_id, token.card?.id ?? token.id, pc.client_secret);
      } catch (err) {
        if (err instanceof ApiError && err.code === 'card_declined') {
          setCardSent(false);
          if (p.newPurchaseAfterDecline) purchase.current = null;
          setPhase({ kind: 'declined', message: err.message });
          return;
        }
        throw err;
      }
      if (result.status === 'requires_action') {
        setPhase({ kind: 'paying', step: 'Waiting for your bank’s authentication (3-D Secure)…' });
        const r = await st.client.confirmCardPayment(pc.client_secret);
        const status = r.paymentIntent?.status;
        // `processing` is paid as far as the buyer is concerned: keep following this purchase
        // (a new one could be charged a second time when the first one completes).
        if (r.error || (status !== 'succeeded' && status !== 'processing')) {
          if (p.newPurchaseAfterDecline) purchase.current = null;
          setCardSent(false);
          setPhase({
            kind: 'declined',
            message: r.error?.message ?? 'The authentication with your bank failed; you were not charged.',
          });
          return;
        }
      } else if (result.status !== 'succeeded' && result.status !== 'processing') {
        setCardSent(false);
        setPhase({ kind: 'declined', message: result.message ?? `The payment is ${result.status}.` });
        return;
      }
      setPhase({ kind: 'progress', purchase: null });
      for (;;) {
        const cur = await api.purchase(pc.purchase_id);
        setPhase({ kind: 'progress', purchase: cur });
        if (SETTLED_PURCHASE_STATES.includes(cur.state)) break;
        await sleep(700);
      }
    } catch (err) {
      setPhase({ kind: 'failed', message: errorMessage(err) });
    }
  };

  const busy = phase.kind === 'paying' || phase.kind === 'progress';
  return (
    <section class="checkout">
      <p>
        <a href={`/films/${p.filmId}`}>← {p.title}</a>
      </p>
      <h1>
        Buy {p.title} in {qualityLabel(p.quality)}
        {p.seller && ' from another owner'}
      </h1>
      <p class="total">
        Total <strong data-testid="total">{money(price, p.currency)}</strong>
      </p>
      {p.seller ? (
        <p class="muted small">
          You buy this {qualityLabel(p.quality)} licence from its owner{' '}
          <code title={p.seller} data-testid="seller">{short(p.seller)}</code>. Once paid, a new licence is recorded on chain
          to your wallet <code title={p.buyer}>{short(p.buyer)}</code> and appears in your library; the seller’s is
          retired, and the seller, the studio and the platform are paid their shares.
        </p>
      ) : p.fromCli ? (
        <p class="muted small">
          You buy a licence to this film in {qualityLabel(p.quality)}. Once paid, it is recorded on chain to the
          wallet that started this purchase, <code class="wrap" data-testid="recipient">{p.buyer}</code>: check
          that it is yours (<code>tangible wallet show</code>) before you pay.
        </p>
      ) : (
        <p class="muted small">
          You buy a licence to this film in {qualityLabel(p.quality)}. Once paid, it is recorded on chain to
          your wallet <code title={p.buyer}>{short(p.buyer)}</code> and appears in your library.
        </p>
      )}
      {paidByCredit && <CreditPaid paid={paidByCredit} />}
      {p.credit && !paidByCredit && phase.kind !== 'progress' && (
        <CreditPay {...p.credit} price={price} disabled={busy || cardSent} onPaid={setPaidByCredit} onBusy={setCreditBusy} />
      )}
      {phase.kind !== 'progress' && !paidByCredit && (
        <form onSubmit={pay} class="form" noValidate>
          <fieldset disabled={busy || creditBusy}>
            <legend>Card</legend>
            <div ref={mount} class="card-element" data-testid="card-element" />
            {ready === 'loading' && <Loading what="the card form" />}
            {ready !== 'loading' && ready !== 'ok' && <ErrorBox>{ready}</ErrorBox>}
          </fieldset>
          {phase.kind === 'declined' && (
            <div class="error" role="alert" data-testid="declined">
              <p>
                <strong>Payment not completed.</strong> {phase.message}
              </p>
              <p>You were not charged. Check the details or use another card.</p>
            </div>
          )}
          {phase.kind === 'failed' && <ErrorBox>Something went wrong: {phase.message}</ErrorBox>}
          {phase.kind === 'repriced' && (
            <div class="error" role="alert" data-testid="repriced">
              <p>
                <strong>The price is now {money(price, p.currency)}</strong> (it was {money(phase.from, p.currency)} when
                this page was loaded). Nothing was charged: press Pay to pay the new price, or go back.
              </p>
            </div>
          )}
          {phase.kind === 'paying' && (
            <p role="status" aria-live="polite">
              <span class="spinner" aria-hidden="true" /> {phase.step}
            </p>
          )}
          <button type="submit" disabled={busy || creditBusy || ready !== 'ok'}>
            Pay {money(price, p.currency)}
          </button>
        </form>
      )}
      {phase.kind === 'progress' && <Progress purchase={phase.purchase} fromCli={p.fromCli ?? false} />}
    </section>
  );
}

/** A purchase's way to its licence; `fromCli`: paid for `tangible buy --card`, whose wallet holds it. */
export function Progress({ purchase, fromCli = false }: { purchase: Purchase | null; fromCli?: boolean }) {
  const st = purchase?.state ?? 'awaiting_payment';
  const order = ['awaiting_payment', 'paid', 'settling', 'fulfilled'];
  const at = order.indexOf(st);
  const steps = [
    { label: at >= 1 ? 'Payment confirmed' : 'Confirming the payment…', done: at >= 1 },
    { label: at >= 3 ? 'Licence minted on chain' : 'Minting your licence on chain…', done: at >= 3 },
  ];
  if (st === 'expired')
    return (
      <div class="error" role="alert" data-testid="purchase-expired">
        <p>
          <strong>This purchase expired before it was paid.</strong> Nothing was charged; start a new purchase from
          the film's page.
        </p>
      </div>
    );
  if (st === 'disputed' || st === 'revoked' || st === 'dispute_lost')
    return (
      <div class="error" role="alert" data-testid="purchase-revoked">
        <p>
          <strong>This licence was revoked.</strong> The payment was disputed or refunded with the card issuer.
        </p>
      </div>
    );
  if (st === 'reinstated')
    return (
      <div class="success" data-testid="purchase-reinstated">
        <p>
          <strong>It’s yours again.</strong> The dispute of this payment was closed and the payment stands: a new
          licence was issued, number <LongId prefix="#" value={purchase?.reinstated_licence_id ?? ''} />.
        </p>
      </div>
    );
  if (st === 'failed' || st === 'refunded')
    return (
      <div class="error" role="alert" data-testid="purchase-failed">
        <p>
          <strong>The licence could not be minted.</strong> {purchase?.failure_message ?? ''}
        </p>
        <p>{st === 'refunded' ? 'Your payment has been refunded.' : 'Your payment will be refunded.'}</p>
      </div>
    );
  return (
    <div aria-live="polite" data-testid="progress">
      <ol class="steps">
        {steps.map((s) => (
          <li key={s.label} class={s.done ? 'done' : 'pending'}>
            {s.done ? '✓' : <span class="spinner" aria-hidden="true" />} {s.label}
          </li>
        ))}
      </ol>
      {st === 'fulfilled' && purchase && (
        <div class="success" data-testid="fulfilled">
          <p>
            <strong>It’s yours.</strong>{' '}
            {fromCli
              ? 'The licence is in the wallet of the tangible command that started this purchase: it shows it now, and tangible download fetches the film.'
              : 'The licence is in your wallet and your library.'}
          </p>
          <p class="small">
            Licence number <LongId prefix="#" value={purchase.licence_id ?? ''} />
          </p>
          <p class="muted small">
            Recorded on chain in transaction <LongId value={purchase.tx_hash ?? ''} />
          </p>
          {!fromCli && (
            <a class="button" href="/library">
              Go to your library
            </a>
          )}
        </div>
      )}
    </div>
  );
}
