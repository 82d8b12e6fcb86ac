import { render } from 'preact';
import type { FunctionComponent } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { short } from './api';
import { useSession } from './hooks';
import { Catalogue } from './pages/Catalogue';
import { Checkout, OfferCheckout } from './pages/Checkout';
import { FilmPage } from './pages/Film';
import { Library } from './pages/Library';
import { PayPage } from './pages/Pay';
import { registerWorker } from './film/worker';
import { WalletPage } from './pages/Wallet';
import { onLinkClick, usePath } from './router';
import { ErrorBox, Loading } from './ui';
import { signedIn } from './wallet';
import './styles.css';

// The studio dashboard is loaded on demand: buyers never download it.
type StudioModule = { StudioRoutes: FunctionComponent<{ path: string }> };
let studio: Promise<StudioModule> | null = null;
function Studio({ path }: { path: string }) {
  const [mod, setMod] = useState<StudioModule | 'failed' | null>(null);
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let live = true;
    studio ??= import('./studio/Studio');
    studio.then(
      (m) => live && setMod(m),
      () => {
        studio = null;
        if (live) setMod('failed');
      },
    );
    return () => {
      live = false;
    };
  }, [tick]);
  if (mod === 'failed')
    return (
      <ErrorBox retry={() => (setMod(null), setTick(tick + 1))}>The studio dashboard could not be loaded. Check your connection.</ErrorBox>
    );
  if (!mod) return <Loading what="the studio dashboard" />;
  return <mod.StudioRoutes path={path} />;
}

// The operator console likewise (platform admins only).
type OperatorModule = { OperatorPage: FunctionComponent };
let operator: Promise<OperatorModule> | null = null;
function Operator() {
  const [mod, setMod] = useState<OperatorModule | 'failed' | null>(null);
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let live = true;
    operator ??= import('./operator/Operator');
    operator.then(
      (m) => live && setMod(m),
      () => {
        operator = null;
        if (live) setMod('failed');
      },
    );
    return () => {
      live = false;
    };
  }, [tick]);
  if (mod === 'failed')
    return (
      <ErrorBox retry={() => (setMod(null), setTick(tick + 1))}>The operator console could not be loaded. Check your connection.</ErrorBox>
    );
  if (!mod) return <Loading what="the operator console" />;
  return <mod.OperatorPage />;
}

// The player too (with the certificate's EIP-712 check): its chunk is in the worker's app shell,
// so it loads offline.
type PlayerModule = { PlayerPage: FunctionComponent<{ licence: string }> };
let player: Promise<PlayerModule> | null = null;
function Player({ licence }: { licence: string }) {
  const [mod, setMod] = useState<PlayerModule | 'failed' | null>(null);
  useEffect(() => {
    let live = true;
    player ??= import('./pages/Player');
    player.then(
      (m) => live && setMod(m),
      () => {
        player = null;
        if (live) setMod('failed');
      },
    );
    return () => {
      live = false;
    };
  }, []);
  if (mod === 'failed') return <ErrorBox>The player could not be loaded. Check your connection.</ErrorBox>;
  if (!mod) return <Loading what="the player" />;
  return <mod.PlayerPage licence={licence} />;
}

function Page({ path }: { path: string }) {
  let m: RegExpMatchArray | null;
  if (path === '/') return <Catalogue />;
  if ((m = path.match(/^\/films\/(\d+)\/buy\/(sd|hd|4k)$/))) return <Checkout filmId={Number(m[1])} quality={m[2] ?? ""} />;
  if ((m = path.match(/^\/films\/(\d+)\/offers\/(\d{1,78})$/))) return <OfferCheckout filmId={Number(m[1])} offerId={m[2] ?? ''} />;
  if ((m = path.match(/^\/films\/(\d+)$/))) return <FilmPage id={Number(m[1])} />;
  if ((m = path.match(/^\/pay\/([0-9a-f-]{36})$/))) return <PayPage purchaseId={m[1] ?? ''} />;
  if (path === '/wallet') return <WalletPage />;
  if (path === '/library') return <Library />;
  if ((m = path.match(/^\/play\/(\d{1,78})$/))) return <Player licence={m[1] ?? ''} />;
  if (path === '/studio' || path.startsWith('/studio/')) return <Studio path={path} />;
  if (path === '/operator') return <Operator />;
  return (
    <section>
      <h1>Page not found</h1>
      <p>There is no page at this address.</p>
      <p>
        <a href="/">Back to the catalogue</a>
      </p>
    </section>
  );
}

function App() {
  const { path, key } = usePath();
  const s = useSession();
  useEffect(() => {
    document.addEventListener('click', onLinkClick);
    return () => document.removeEventListener('click', onLinkClick);
  }, []);
  const nav = (href: string, label: string) => (
    <a href={href} aria-current={path === href ? 'page' : undefined}>
      {label}
    </a>
  );
  return (
    <>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header class="top">
        <a href="/" class="brand">
          Tangible
        </a>
        <nav aria-label="Main">
          {nav('/', 'Films')}
          {nav('/library', 'Library')}
          <a href="/studio" aria-current={path.startsWith('/studio') ? 'page' : undefined}>
            Studio
          </a>
          <a href="/wallet" aria-current={path === '/wallet' ? 'page' : undefined} class="wallet-link" data-testid="wallet-link"
            title={s ? (signedIn(s) ? 'Wallet unlocked, signed in' : 'Wallet unlocked, not signed in') : 'Your wallet'}>
            {s ? `${signedIn(s) ? '●' : '○'} ${short(s.address)}` : 'Wallet'}
          </a>
        </nav>
      </header>
      <main id="main" tabIndex={-1}>
        {/* A navigation (even to the same page, e.g. "Films" from a search) starts the page afresh. */}
        <Page key={key} path={path} />
      </main>
      <footer class="foot">
        <nav aria-label="Operations">
          <a href="/operator" aria-current={path === '/operator' ? 'page' : undefined} data-testid="operator-link">
            Operator console
          </a>
        </nav>
      </footer>
    </>
  );
}

registerWorker();
const root = document.getElementById('app');
if (root) render(<App />, root);
