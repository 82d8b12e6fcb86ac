import { render } from 'preact';
import { useEffect } from 'preact/hooks';
import { short } from './api';
import { useSession } from './hooks';
import { Catalogue } from './pages/Catalogue';
import { Checkout } from './pages/Checkout';
import { FilmPage } from './pages/Film';
import { Library } from './pages/Library';
import { WalletPage } from './pages/Wallet';
import { onLinkClick, usePath } from './router';
import { signedIn } from './wallet';
import './styles.css';

function Page({ path }: { path: string }) {
  let m: RegExpMatchArray | null;
  if (path === '/') return <Catalogue />;
  if ((m = path.match(/^\/films\/(\d+)\/buy\/(sd|hd|4k)$/))) return <Checkout filmId={Number(m[1])} quality={m[2] ?? ""} />;
  if ((m = path.match(/^\/films\/(\d+)$/))) return <FilmPage id={Number(m[1])} />;
  if (path === '/wallet') return <WalletPage />;
  if (path === '/library') return <Library />;
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
    </>
  );
}

const root = document.getElementById('app');
if (root) render(<App />, root);
