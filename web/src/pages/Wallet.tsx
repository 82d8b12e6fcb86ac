import { useEffect, useMemo, useState } from 'preact/hooks';
import { api, ApiError, errorMessage, short } from '../api';
import { discoverWallets, type InjectedWallet, type WalletInfo } from '../eip6963';
import { useLoad, useSession } from '../hooks';
import { WrongPassword } from '../keystore';
import { navigate } from '../router';
import { ErrorBox, Loaded, LongId } from '../ui';
import {
  connectInjected,
  loadWallets,
  lock,
  mnemonicProblem,
  newMnemonic,
  passwordProblem,
  secretFromHex,
  secretFromMnemonic,
  signIn,
  signedIn,
  storeAndUnlock,
  unlock,
} from '../wallet';

function next(): string {
  const n = new URLSearchParams(location.search).get('next');
  return n && n.startsWith('/') && !n.startsWith('//') ? n : '';
}

/** A form's error and busy flag; `run` clears the error, runs `f` and shows what it throws as `failed(e)`. */
function useAction() {
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  const run = async (f: () => Promise<void>, failed: (e: unknown) => string) => {
    setBusy(true);
    setError('');
    try {
      await f();
    } catch (e) {
      setError(failed(e));
    } finally {
      setBusy(false);
    }
  };
  return { error, setError, busy, run };
}

async function afterUnlock(setError: (s: string) => void) {
  setError('');
  try {
    await signIn();
    const n = next();
    if (n) navigate(n);
  } catch (e) {
    // Offline: the wallet is unlocked (stored films play from their certificates); go on.
    const n = next();
    if (e instanceof ApiError && e.code === 'network' && n) return navigate(n);
    setError('Wallet unlocked, but signing in failed: ' + errorMessage(e));
  }
}

export function WalletPage() {
  const s = useSession();
  const [mode, setMode] = useState<'unlock' | 'create' | 'import' | 'browser'>('unlock');
  const [stored, reload] = useLoad(loadWallets, [s?.address]);
  const { error, setError, busy, run } = useAction();
  // Wallet extensions announce themselves (EIP-6963) while this page listens.
  const [injected, setInjected] = useState<InjectedWallet[]>([]);
  useEffect(() => discoverWallets(setInjected), []);

  if (s)
    return (
      <section>
        <h1>Your wallet</h1>
        <p>
          Address{' '}
          <span data-testid="address">
            <LongId value={s.address} />
          </span>
        </p>
        {s.source.kind === 'injected' && <InjectedNote wallet={s.source.wallet} chainId={s.source.chainId} />}
        <p data-testid="signin-state">
          {signedIn(s) ? (
            <>
              ✓ Signed in until {new Date(s.login?.expires_at ?? '').toLocaleString()}: the shop knows this wallet is yours, so
              you can buy.
            </>
          ) : (
            <>Not signed in: sign in to prove to the shop that this wallet is yours before you buy.</>
          )}
        </p>
        {error && <ErrorBox>{error}</ErrorBox>}
        <div class="row">
          {!signedIn(s) && (
            <button
              type="button"
              disabled={busy}
              onClick={() => run(() => afterUnlock(setError), errorMessage)}
            >
              Sign in with this wallet
            </button>
          )}
          <a class="button secondary" href="/library">
            Your library
          </a>
          <button type="button" class="secondary" onClick={() => (setError(''), lock())}>
            {s.source.kind === 'injected' ? 'Disconnect' : 'Lock'}
          </button>
        </div>
        <p class="muted small">
          {s.source.kind === 'injected'
            ? `The key stays in ${s.source.wallet.name}, which asks you before it signs; this tab keeps only your sign-in until you disconnect or close it.`
            : "The key stays in this tab's memory until you lock it or close the tab."}
        </p>
      </section>
    );

  return (
    <section>
      <h1>Your wallet</h1>
      <p class="muted">
        Your wallet holds the licences you buy. It is a key kept in this browser, encrypted with your password: create one
        here, or import the recovery phrase of one you already have. A wallet extension (such as MetaMask or Rabby) can be
        used instead: see “Browser wallet”.
      </p>
      <div class="tabs" role="tablist">
        {(['unlock', 'create', 'import', 'browser'] as const).map((m) => (
          <button
            key={m}
            type="button"
            role="tab"
            aria-selected={mode === m}
            class={mode === m ? 'tab active' : 'tab'}
            onClick={() => setMode(m)}
          >
            {m === 'unlock' ? 'Unlock' : m === 'create' ? 'Create' : m === 'import' ? 'Import' : 'Browser wallet'}
            {m === 'browser' && injected.length > 0 && <span class="badge count">{injected.length}</span>}
          </button>
        ))}
      </div>
      {mode === 'unlock' && (
        <Loaded load={stored} what="your wallets" retry={reload}>
          {(ws) =>
            ws.length === 0 ? (
              <p>
                No wallet in this browser yet.{' '}
                <button type="button" class="link" onClick={() => setMode('create')}>
                  Create one
                </button>{' '}
                or{' '}
                <button type="button" class="link" onClick={() => setMode('import')}>
                  import your recovery phrase
                </button>
                {injected.length > 0 && (
                  <>
                    , or{' '}
                    <button type="button" class="link" onClick={() => setMode('browser')}>
                      use your browser wallet
                    </button>
                  </>
                )}
                .
              </p>
            ) : (
              <UnlockForm wallets={ws} signInFailed={setError} />
            )
          }
        </Loaded>
      )}
      {mode === 'create' && <CreateForm signInFailed={setError} />}
      {mode === 'import' && <ImportForm signInFailed={setError} />}
      {mode === 'browser' && <BrowserWallets wallets={injected} signInFailed={setError} />}
    </section>
  );
}

/** The icon an extension announced (an image data URI), or nothing. */
function WalletIcon({ wallet }: { wallet: WalletInfo }) {
  return wallet.icon ? <img class="wallet-icon" src={wallet.icon} alt="" width={28} height={28} /> : null;
}

/** The wallet extensions found (EIP-6963): connect one, then sign in with it (EIP-4361). */
function BrowserWallets({ wallets, signInFailed }: { wallets: InjectedWallet[] } & SignInFailed) {
  const { error, busy, run } = useAction();
  const [which, setWhich] = useState('');
  if (wallets.length === 0)
    return (
      <div class="form" data-testid="no-injected">
        <p>No wallet extension found in this browser.</p>
        <p class="muted small">
          Extensions that announce themselves to web pages (EIP-6963: MetaMask, Rabby, Coinbase Wallet and others) are listed
          here once installed and enabled. Or keep a wallet in this browser: the Create and Import tabs.
        </p>
      </div>
    );
  return (
    <div class="form">
      <p>
        Sign in with a wallet extension: it shares your address with the shop and signs the sign-in message; your key never
        leaves it.
      </p>
      <ul class="injected" data-testid="injected-wallets">
        {wallets.map((w) => (
          <li key={w.info.uuid} class="card">
            <WalletIcon wallet={w.info} />
            <span class="injected-name">
              <strong>{w.info.name}</strong>
              {w.info.rdns && <span class="muted small rdns">{w.info.rdns}</span>}
            </span>
            <button
              type="button"
              disabled={busy}
              onClick={() => {
                setWhich(w.info.uuid);
                return run(
                  async () => {
                    await connectInjected(w);
                    await afterUnlock(signInFailed);
                  },
                  errorMessage,
                );
              }}
            >
              {busy && which === w.info.uuid ? 'Waiting for your wallet…' : `Connect ${w.info.name}`}
            </button>
          </li>
        ))}
      </ul>
      {error && <ErrorBox>{error}</ErrorBox>}
    </div>
  );
}

/** Which extension the session signs with, and its chain when it is not Tangible's. */
function InjectedNote({ wallet, chainId }: { wallet: WalletInfo; chainId: number | null }) {
  const [config] = useLoad(() => api.config(), []);
  const other = config.state === 'ok' && chainId !== null && chainId !== config.value.chain_id ? config.value.chain_id : null;
  return (
    <>
      <p class="row" data-testid="injected-source">
        <WalletIcon wallet={wallet} /> Connected through {wallet.name}
      </p>
      {other !== null && (
        <p class="muted small" data-testid="chain-note">
          {wallet.name} is set to chain {chainId}; Tangible records licences on chain {other}. Signing in and paying by card
          work either way.
        </p>
      )}
    </>
  );
}

/**
 * What a form calls when signing in fails after the wallet is unlocked: the form is gone by then
 * (the page shows the unlocked wallet), so the page shows the message.
 */
type SignInFailed = { signInFailed: (message: string) => void };

function UnlockForm({ wallets, signInFailed }: { wallets: Awaited<ReturnType<typeof loadWallets>> } & SignInFailed) {
  const [addr, setAddr] = useState(wallets[0]?.address ?? '');
  const [pw, setPw] = useState('');
  const { error, setError, busy, run } = useAction();
  const submit = async (e: Event) => {
    e.preventDefault();
    const w = wallets.find((x) => x.address === addr);
    if (!w) return;
    if (!pw) return setError('Enter your password.');
    await run(
      async () => {
        await unlock(w, pw);
        await afterUnlock(signInFailed);
      },
      (err) =>
        err instanceof WrongPassword
          ? `${err.message} Forgotten it? Import your recovery phrase (Import tab) and choose a new password.`
          : 'Unlocking failed: ' + errorMessage(err),
    );
  };
  return (
    <form onSubmit={submit} class="form" noValidate>
      <label>
        Wallet
        <select value={addr} onChange={(e) => setAddr((e.target as HTMLSelectElement).value)}>
          {wallets.map((w) => (
            <option key={w.address} value={w.address}>
              {short(w.address)}
            </option>
          ))}
        </select>
      </label>
      <label>
        Password
        <input type="password" autoComplete="current-password" value={pw} onInput={(e) => setPw((e.target as HTMLInputElement).value)} />
      </label>
      {error && <ErrorBox>{error}</ErrorBox>}
      <button type="submit" disabled={busy}>
        {busy ? 'Unlocking…' : 'Unlock'}
      </button>
    </form>
  );
}

function PasswordFields({ pw, confirm, set }: { pw: string; confirm: string; set: (pw: string, confirm: string) => void }) {
  return (
    <>
      <label>
        Password (at least 10 characters)
        <input
          name="password"
          type="password"
          autoComplete="new-password"
          value={pw}
          onInput={(e) => set((e.target as HTMLInputElement).value, confirm)}
        />
      </label>
      <label>
        Repeat the password
        <input
          name="confirm"
          type="password"
          autoComplete="new-password"
          value={confirm}
          onInput={(e) => set(pw, (e.target as HTMLInputElement).value)}
        />
      </label>
    </>
  );
}

function CreateForm({ signInFailed }: SignInFailed) {
  const [step, setStep] = useState<'password' | 'words' | 'confirm'>('password');
  const [pw, setPw] = useState('');
  const [confirm, setConfirm] = useState('');
  const [words, setWords] = useState<string[]>([]);
  const [answers, setAnswers] = useState<Record<number, string>>({});
  const { error, setError, busy, run } = useAction();
  // Three positions to confirm, chosen once per phrase.
  const asks = useMemo(() => {
    const picks = new Set<number>();
    while (words.length && picks.size < 3) picks.add((crypto.getRandomValues(new Uint32Array(1))[0] ?? 0) % words.length);
    return [...picks].sort((a, b) => a - b);
  }, [words]);

  if (step === 'password')
    return (
      <form
        class="form"
        noValidate
        onSubmit={(e) => {
          e.preventDefault();
          const p = passwordProblem(pw, confirm);
          if (p) return setError(p);
          setError('');
          setWords(newMnemonic().split(' '));
          setStep('words');
        }}
      >
        <p>Your wallet holds your licences. It is encrypted with this password and kept in this browser only.</p>
        <PasswordFields pw={pw} confirm={confirm} set={(a, b) => (setPw(a), setConfirm(b))} />
        {error && <ErrorBox>{error}</ErrorBox>}
        <button type="submit">Next: your recovery phrase</button>
      </form>
    );
  if (step === 'words')
    return (
      <div class="form">
        <p>
          <strong>Write these 12 words down, in order.</strong> They are shown once; they are the only way to recover your
          wallet in another browser.
        </p>
        <ol class="words" data-testid="mnemonic">
          {words.map((w, i) => (
            <li key={i}>{w}</li>
          ))}
        </ol>
        <button type="button" onClick={() => setStep('confirm')}>
          I have written them down
        </button>
      </div>
    );
  return (
    <form
      class="form"
      noValidate
      onSubmit={async (e) => {
        e.preventDefault();
        const wrong = asks.filter((i) => (answers[i] ?? '').trim().toLowerCase() !== words[i]);
        if (wrong.length) return setError(`Word ${wrong.map((i) => '#' + (i + 1)).join(', ')} does not match. Check what you wrote.`);
        await run(
          async () => {
            await storeAndUnlock(secretFromMnemonic(words.join(' ')), pw);
            setWords([]);
            await afterUnlock(signInFailed);
          },
          (err) => 'Creating the wallet failed: ' + errorMessage(err),
        );
      }}
    >
      <p>Confirm your phrase: type the words asked for.</p>
      {asks.map((i) => (
        <label key={i}>
          Word #{i + 1}
          <input
            name={`word-${i + 1}`}
            autoComplete="off"
            autoCapitalize="off"
            spellcheck={false}
            value={answers[i] ?? ''}
            onInput={(e) => setAnswers({ ...answers, [i]: (e.target as HTMLInputElement).value })}
          />
        </label>
      ))}
      {error && <ErrorBox>{error}</ErrorBox>}
      <div class="row">
        <button type="button" class="secondary" onClick={() => setStep('words')}>
          Show the words again
        </button>
        <button type="submit" disabled={busy}>
          {busy ? 'Encrypting…' : 'Create wallet'}
        </button>
      </div>
    </form>
  );
}

function ImportForm({ signInFailed }: SignInFailed) {
  const [phrase, setPhrase] = useState('');
  const [pw, setPw] = useState('');
  const [confirm, setConfirm] = useState('');
  const { error, setError, busy, run } = useAction();
  return (
    <form
      class="form"
      noValidate
      onSubmit={async (e) => {
        e.preventDefault();
        const isKey = /^(0x)?[0-9a-fA-F]{64}$/.test(phrase.trim());
        const p = (isKey ? null : mnemonicProblem(phrase)) ?? passwordProblem(pw, confirm);
        if (p) return setError(p);
        await run(
          async () => {
            await storeAndUnlock(isKey ? secretFromHex(phrase) : secretFromMnemonic(phrase), pw);
            setPhrase('');
            await afterUnlock(signInFailed);
          },
          (err) => 'Import failed: ' + errorMessage(err),
        );
      }}
    >
      <label>
        Recovery phrase (12 or 24 words) or private key
        <textarea
          rows={3}
          autoComplete="off"
          autoCapitalize="off"
          spellcheck={false}
          value={phrase}
          onInput={(e) => setPhrase((e.target as HTMLTextAreaElement).value)}
        />
      </label>
      <PasswordFields pw={pw} confirm={confirm} set={(a, b) => (setPw(a), setConfirm(b))} />
      {error && <ErrorBox>{error}</ErrorBox>}
      <button type="submit" disabled={busy}>
        {busy ? 'Encrypting…' : 'Import wallet'}
      </button>
    </form>
  );
}
