// The studio dashboard (loaded on demand): register a studio (a platform admin's wallet at once,
// any other by an application a platform admin approves, checked again every 5 s while it waits)
// and its films, upload masters with progress, withdraw/reactivate editions, and the royalty
// statement with its chart and CSV.
import type { JSX } from 'preact';
import { useRef, useState } from 'preact/hooks';
import { ApiError, api, short, type Film, type Page } from '../api';
import { useLoad, useSession, type Load } from '../hooks';
import { navigate } from '../router';
import { ErrorBox, Loaded } from '../ui';
import { signedIn, type Session } from '../wallet';
import {
  addressProblem,
  applicationOpen,
  knownFilms,
  knownStudios,
  nameProblem,
  rememberFilm,
  rememberStudio,
  type KnownFilm,
} from './model';
import { focusFirstInvalid, studioError, value, type Signed } from './forms';
import { ApplicationList, useApplications } from './Applications';
import { CollectRoyalties } from './Collect';
import { Field } from './Field';
import { FilmCard, RegisterFilm } from './Films';
import { StatementPage } from './Statement';

export function StudioRoutes({ path }: { path: string }) {
  let m: RegExpMatchArray | null;
  if ((m = path.match(/^\/studio\/(\d+)\/statement$/))) return <StatementPage id={Number(m[1])} />;
  if ((m = path.match(/^\/studio\/(\d+)$/))) return <Gate>{(s) => <StudioPage id={Number(m?.[1])} s={s} />}</Gate>;
  return <Gate>{(s) => <StudioHome s={s} />}</Gate>;
}

/** The dashboard's pages need a wallet signed in (the API checks its authority on chain). */
function Gate({ children }: { children: (s: Session & { login: NonNullable<Session['login']> }) => JSX.Element }) {
  const s = useSession();
  if (s && signedIn(s) && s.login) return children({ ...s, login: s.login });
  return (
    <section>
      <h1>Studio dashboard</h1>
      <p>
        Studios register films, upload their masters and read their royalties here. The wallet that registers a studio
        becomes its admin.
      </p>
      <p>
        <a href={`/wallet?next=${encodeURIComponent(location.pathname)}`}>
          {s ? 'Sign in with your wallet' : 'Unlock or create your wallet'}
        </a>{' '}
        to continue; you come back here afterwards.
      </p>
    </section>
  );
}

// ------------------------------------------------------------------ home: register or open a studio

function StudioHome({ s }: { s: Signed }) {
  const apps = useApplications(s);
  const known = knownStudios(s.address);
  const [name, setName] = useState('');
  const [royalty, setRoyalty] = useState<string>(s.address);
  const [errs, setErrs] = useState<{ name?: string | null; royalty?: string | null }>({});
  const [busy, setBusy] = useState(false);
  const [failed, setFailed] = useState('');
  const [sent, setSent] = useState<number | null>(null);
  const [openId, setOpenId] = useState('');
  const [openErr, setOpenErr] = useState('');

  const register = async (e: Event) => {
    e.preventDefault();
    const next = { name: nameProblem('studio name', name), royalty: addressProblem(royalty) };
    setErrs(next);
    if (next.name || next.royalty) return focusFirstInvalid(e);
    setBusy(true);
    setFailed('');
    try {
      const r = await api.registerStudio(s.login.token, name.trim(), royalty.trim());
      if (r.kind === 'created') {
        rememberStudio(s.address, { id: r.studio.studio_id, name: r.studio.name });
        navigate(`/studio/${r.studio.studio_id}`);
      } else {
        // An application: a platform admin must approve it (the page checks every 5 s).
        apps.add(r.application);
        setSent(r.application.application_id);
        setName('');
      }
    } catch (err) {
      setFailed('The studio was not registered: ' + studioError(err));
      if (err instanceof ApiError && err.code === 'application_pending') apps.checkNow();
    } finally {
      setBusy(false);
    }
  };
  const open = (e: Event) => {
    e.preventDefault();
    if (!/^[1-9]\d{0,9}$/.test(openId.trim())) {
      setOpenErr('Enter the studio number, like 3.');
      return focusFirstInvalid(e);
    }
    navigate(`/studio/${openId.trim()}`);
  };

  return (
    <section>
      <h1>Studio dashboard</h1>
      <p class="muted">
        Signed in as <code title={s.address}>{short(s.address)}</code>. Registering a studio and its films sends the
        chain transactions for you; no ETH is needed. A new studio is registered once a platform admin approves its
        application.
      </p>
      {known.length > 0 && (
        <>
          <h2>Your studios</h2>
          <ul class="studios" data-testid="known-studios">
            {known.map((k) => (
              <li key={k.id} class="card">
                <a href={`/studio/${k.id}`}>
                  <strong>{k.name}</strong>
                </a>{' '}
                <span class="muted">studio #{k.id}</span> · <a href={`/studio/${k.id}/statement`}>Statement</a>
              </li>
            ))}
          </ul>
        </>
      )}
      <ApplicationList apps={apps} focus={sent} />
      <div class="columns">
        <form class="form card" onSubmit={register} noValidate aria-labelledby="reg-studio">
          <h2 id="reg-studio">Register a studio</h2>
          <Field id="studio-name" label="Studio name" error={errs.name}>
            {(a) => <input {...a} name="studio-name" value={name} maxLength={200} onInput={(e) => setName(value(e))} />}
          </Field>
          <Field
            id="royalty"
            label="Royalty address"
            hint="Where the studio's share of every sale is paid. Your wallet's address by default."
            error={errs.royalty}
          >
            {(a) => (
              <input {...a} name="royalty" class="mono" value={royalty} spellcheck={false} onInput={(e) => setRoyalty(value(e))} />
            )}
          </Field>
          {failed && <ErrorBox>{failed}</ErrorBox>}
          {!failed && apps.list?.some(applicationOpen) && (
            <p class="muted small">Your application above waits for a platform admin: you can apply for another studio once it is decided.</p>
          )}
          <p>
            <button type="submit" disabled={busy}>
              {busy ? 'Sending…' : 'Register studio'}
            </button>
          </p>
        </form>
        <form class="form card" onSubmit={open} noValidate aria-labelledby="open-studio">
          <h2 id="open-studio">Open a studio</h2>
          <Field id="studio-id" label="Studio number" error={openErr} hint="A studio your wallet administers.">
            {(a) => (
              <input {...a} name="studio-id" inputMode="numeric" value={openId} onInput={(e) => (setOpenId(value(e)), setOpenErr(''))} />
            )}
          </Field>
          <p>
            <button type="submit" class="secondary">
              Open
            </button>
          </p>
        </form>
      </div>
    </section>
  );
}

// ------------------------------------------------------------------ a studio: films, masters, editions

function StudioPage({ id, s }: { id: number; s: Signed }) {
  const [loaded, retry] = useLoad(() => api.studioFilms(id), [id]);
  // A reload (after a change) keeps the list on screen, so the cards keep their state (an
  // upload's result) instead of flashing a spinner.
  const last = useRef<Page<Film> | null>(null);
  if (loaded.state === 'ok') last.current = loaded.value;
  const films: Load<Page<Film>> = loaded.state === 'loading' && last.current ? { state: 'ok', value: last.current } : loaded;
  const [known, setKnown] = useState(() => knownFilms(id));
  const name = knownStudios(s.address).find((k) => k.id === id)?.name;
  const registered = (f: KnownFilm) => {
    rememberFilm(id, f);
    setKnown(knownFilms(id));
    retry();
  };
  return (
    <section>
      <p>
        <a href="/studio">← Studio dashboard</a>
      </p>
      <h1>{name ? `${name} (studio #${id})` : `Studio #${id}`}</h1>
      <p>
        <a href={`/studio/${id}/statement`}>Royalty statement →</a>
      </p>
      <CollectRoyalties studioId={id} s={s} />
      <RegisterFilm studioId={id} s={s} onDone={registered} />
      <h2>Films</h2>
      <Loaded load={films} what="the studio's films" retry={retry}>
        {(page) => {
          // The catalogue (the chain, indexed) and the films registered from this browser (a film
          // just registered may not be indexed yet; its declared prices are known only here).
          const ids = [...new Set([...page.items.map((f) => f.film_id), ...known.map((k) => k.film_id)])].sort((a, b) => b - a);
          if (!ids.length) return <p class="muted">No film yet: register the first one above.</p>;
          return (
            <ul class="studio-films" data-testid="studio-films">
              {ids.map((fid) => (
                <FilmCard
                  key={fid}
                  film={page.items.find((f) => f.film_id === fid) ?? null}
                  known={known.find((k) => k.film_id === fid) ?? null}
                  s={s}
                  reload={retry}
                />
              ))}
            </ul>
          );
        }}
      </Loaded>
    </section>
  );
}
