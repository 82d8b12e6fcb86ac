// Stripe.js, loaded from the URL the API publishes (`/v1/config`: Stripe's own, or localstripe's
// fake one locally); the page's CSP allows scripts from that origin only.

export interface CardElement {
  mount(el: HTMLElement): void;
  destroy(): void;
}
interface StripeError {
  message?: string;
  code?: string;
}
export interface StripeClient {
  elements(): { create(type: 'card', options?: unknown): CardElement };
  createToken(el: CardElement): Promise<{ token?: { id: string; card?: { id: string } }; error?: StripeError }>;
  confirmCardPayment(clientSecret: string): Promise<{ paymentIntent?: { status: string }; error?: StripeError }>;
}
type StripeFactory = (key: string) => StripeClient;

let loading: Promise<StripeFactory> | null = null;

export function loadStripe(url: string): Promise<StripeFactory> {
  loading ??= new Promise<StripeFactory>((resolve, reject) => {
    const w = window as unknown as { Stripe?: StripeFactory };
    if (w.Stripe) return resolve(w.Stripe);
    const s = document.createElement('script');
    s.src = url;
    s.async = true;
    s.onload = () => (w.Stripe ? resolve(w.Stripe) : reject(new Error('Stripe.js loaded without Stripe()')));
    s.onerror = () => {
      loading = null;
      reject(new Error('The card form (Stripe.js) could not be loaded.'));
    };
    document.head.appendChild(s);
  });
  return loading;
}
