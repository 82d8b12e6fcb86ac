// The hosted payment page for a purchase made elsewhere: `tangible buy --card` creates the
// purchase for the buyer's address and prints `/pay/<purchase id>#<client secret>`. The secret
// travels in the fragment, which the browser never sends to a server (nor to its logs).
import { useState } from 'preact/hooks';
import { api, money, type Purchase } from '../api';
import { useLoad } from '../hooks';
import { ErrorBox, Loaded, qualityLabel } from '../ui';
import { CardCheckout, Progress } from './Checkout';

/** The fields of `GET /v1/purchases/{id}` this page reads beyond the storefront's `Purchase`. */
type PurchaseToPay = Purchase & { kind: string; buyer_address: string };

const CLIENT_SECRET = /^pi_[A-Za-z0-9]+_secret_[A-Za-z0-9]+$/;

/**
 * The client secret from the address's fragment, which is then removed from the address bar
 * and the history; kept for this tab only (sessionStorage), so that a reload still pays.
 */
function takeSecret(purchaseId: string): string {
  const key = `tangible.pay.${purchaseId}`;
  let fromHash = '';
  try {
    fromHash = decodeURIComponent(location.hash.replace(/^#/, ''));
  } catch {
    // A malformed escape: treated as no secret.
  }
  if (CLIENT_SECRET.test(fromHash)) {
    sessionStorage.setItem(key, fromHash);
    history.replaceState(history.state, '', location.pathname);
    return fromHash;
  }
  return sessionStorage.getItem(key) ?? fromHash;
}

export function PayPage({ purchaseId }: { purchaseId: string }) {
  const [secret] = useState(() => takeSecret(purchaseId));
  const [data, retry] = useLoad(async () => {
    const [purchase, config] = await Promise.all([
      api.purchase(purchaseId) as Promise<PurchaseToPay>,
      api.config(),
    ]);
    const film = await api.film(purchase.film_id);
    return { purchase, config, film };
  }, [purchaseId]);
  if (!CLIENT_SECRET.test(secret))
    return (
      <ErrorBox>
        This payment link is incomplete. Open the whole address that <code>tangible buy --card</code> printed.
      </ErrorBox>
    );
  return (
    <Loaded load={data} what="the purchase" retry={retry}>
      {({ purchase, config, film }) => {
        const title = `${film.title} in ${qualityLabel(purchase.quality)}`;
        if (purchase.state !== 'awaiting_payment')
          return (
            <section class="checkout">
              <h1>{title}</h1>
              <p>This purchase is already paid for.</p>
              <Progress purchase={purchase} fromCli />
            </section>
          );
        if (!config.stripe_publishable_key) return <ErrorBox>Card payments are not configured on this server.</ErrorBox>;
        return (
          <>
            <p class="muted small">
              {purchase.kind === 'resale' ? 'A resale offer' : 'A new licence'}, for{' '}
              {money(purchase.amount, purchase.currency)}, started from the command line.
            </p>
            <CardCheckout
              title={film.title}
              filmId={purchase.film_id}
              quality={purchase.quality}
              price={purchase.amount}
              currency={purchase.currency}
              buyer={purchase.buyer_address}
              stripeUrl={config.stripe_js_url}
              publishableKey={config.stripe_publishable_key}
              reserve={() => Promise.resolve({ purchase_id: purchase.purchase_id, client_secret: secret })}
              fromCli
            />
          </>
        );
      }}
    </Loaded>
  );
}
