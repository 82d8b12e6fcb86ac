// The studio dashboard (loaded on demand): register a studio (a platform admin's wallet at once,
// any other by an application a platform admin approves, checked again every 5 s while it waits)
// and its films, upload masters with progress, withdraw/reactivate editions, and the royalty
// statement with its chart and CSV.
import { Fragment, type JSX } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, api, money, short, type Film, type MasterPublished, type Page, type StudioApplication } from '../api';
import { useLoad, useSession, type Load } from '../hooks';
import { navigate } from '../router';
import { ErrorBox, Loaded, Loading, LongId, qualityLabel } from '../ui';
import { signedIn, type Session } from '../wallet';
import {
  APPLICATION_POLL_MS,
  QUALITIES,
  addressProblem,
  applicationBadge,
  applicationOpen,
  applicationText,
  approvedStudios,
  justApproved,
  ownApplications,
  utcTime,
  knownFilms,
  knownStudios,
  nameProblem,
  parsePrice,
  rememberFilm,
  rememberStudio,
  yearProblem,
  type KnownFilm,
} from './model';
import { focusFirstInvalid, studioError, value, type Signed } from './forms';
import { CollectRoyalties } from './Collect';
import { ResaleFloorForm } from './ResaleFloor';
import { StatementPage } from './Statement';
import { uploadMaster, type Upload } from './upload';

export function StudioRoutes({ path }: { path: string }) {
  let m: RegExpMatchArray | null;
  if ((m = path.match(/^\/studio\/(\d+)\/statement$/))) return <StatementPage id={Number(m[1])} />;
  if ((m = path.match(/^\/studio\/(\d+)$/))) return <Gate>{(s) => <StudioPage id={Number(m?.[1])} s={s} />}</Gate>;
  return <Gate>{(s) => <StudioHome s={s} />}</Gate>;
}

/** What an API refusal means to a studio. */
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

/** A form field: label, input, and its message (announced, and linked to the input). */
function Field(p: {
  id: string;
  label: string;
  error?: string | null | undefined;
  hint?: string;
  children: (a: { id: string; 'aria-invalid': boolean; 'aria-describedby'?: string }) => JSX.Element;
}) {
  const described = [p.hint ? `${p.id}-hint` : '', p.error ? `${p.id}-error` : ''].filter(Boolean).join(' ');
  return (
    <div class="field">
      <label for={p.id}>{p.label}</label>
      {p.hint && (
        <span id={`${p.id}-hint`} class="muted small">
          {p.hint}
        </span>
      )}
      {p.children({ id: p.id, 'aria-invalid': !!p.error, ...(described ? { 'aria-describedby': described } : {}) })}
      {p.error && (
        <span id={`${p.id}-error`} class="field-error" role="alert">
          {p.error}
        </span>
      )}
    </div>
  );
}


// ------------------------------------------------------------------ home: register or open a studio

/** The signed-in wallet's studio applications, checked again every 5 s while one waits. */
interface Applications {
  /** Its own, waiting ones first (`null` until the first answer). */
  list: StudioApplication[] | null;
  /** The last check's failure ('' when it answered). */
  error: string;
  checking: boolean;
  checkedAt: Date | null;
  /** Checks now (and again every 5 s while one waits). */
  checkNow: () => void;
  /** An application just sent (202): shown at once, checked in 5 s. */
  add: (a: StudioApplication) => void;
}

/**
 * Reads the wallet's applications; while one waits, reads them again every 5 s. When one seen
 * waiting is approved, its studio is remembered and opened, as a studio registered at once is.
 * Approved applications found otherwise (approved while away) join "Your studios".
 */
function useApplications(s: Signed): Applications {
  const token = s.login.token;
  const address = s.address;
  const [list, setList] = useState<StudioApplication[] | null>(null);
  const [error, setError] = useState('');
  const [checking, setChecking] = useState(false);
  const [checkedAt, setCheckedAt] = useState<Date | null>(null);
  const [kick, setKick] = useState({ n: 0, delay: 0 });
  /** Applications seen waiting on this page: their approval opens the studio. */
  const watched = useRef(new Set<number>());
  const waiting = useRef(false);

  useEffect(() => {
    let live = true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const check = async () => {
      setChecking(true);
      let again = false;
      try {
        const all = await api.studioApplications(token);
        if (!live) return;
        for (const k of approvedStudios(all, address)) if (!knownStudios(address).some((x) => x.id === k.id)) rememberStudio(address, k);
        const done = justApproved(all, watched.current);
        if (done) {
          rememberStudio(address, { id: done.studio_id, name: done.name });
          navigate(`/studio/${done.studio_id}`);
          return;
        }
        const mine = ownApplications(all, address);
        for (const a of mine) if (applicationOpen(a)) watched.current.add(a.application_id);
        waiting.current = again = mine.some(applicationOpen);
        setList(mine);
        setError('');
        setCheckedAt(new Date());
      } catch (e) {
        if (!live) return;
        setError(studioError(e));
        // A network hiccup while one waits: try again; an expired sign-in: stop.
        again = waiting.current && !(e instanceof ApiError && e.status === 401);
      } finally {
        if (live) {
          setChecking(false);
          if (again) timer = setTimeout(() => void check(), APPLICATION_POLL_MS);
        }
      }
    };
    timer = setTimeout(() => void check(), kick.delay);
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [token, address, kick]);

  return {
    list,
    error,
    checking,
    checkedAt,
    checkNow: () => setKick((k) => ({ n: k.n + 1, delay: 0 })),
    add: (a) => {
      watched.current.add(a.application_id);
      waiting.current = true;
      setList((l) => ownApplications([a, ...(l ?? []).filter((x) => x.application_id !== a.application_id)], address));
      setError('');
      setKick((k) => ({ n: k.n + 1, delay: APPLICATION_POLL_MS }));
    },
  };
}

/** The wallet's waiting and rejected applications, with "Check again" while one waits. */
function ApplicationList({ apps, focus }: { apps: Applications; focus: number | null }) {
  useEffect(() => {
    if (focus !== null) document.getElementById(`application-${focus}`)?.focus();
  }, [focus]);
  if (apps.list === null)
    return apps.error ? (
      <ErrorBox retry={apps.checkNow}>Could not load your studio applications: {apps.error}</ErrorBox>
    ) : (
      <Loading what="your studio applications" />
    );
  if (apps.list.length === 0) return null;
  const open = apps.list.some(applicationOpen);
  return (
    <section aria-labelledby="studio-apps" data-testid="studio-applications">
      <h2 id="studio-apps">Your studio applications</h2>
      <ul class="studios applications" aria-live="polite">
        {apps.list.map((a) => {
          const t = applicationText(a);
          return (
            <li
              key={a.application_id}
              id={`application-${a.application_id}`}
              tabIndex={-1}
              class={`card application ${a.state}`}
              data-testid={`studio-application-${a.application_id}`}
              data-state={a.state}
            >
              <p>
                <span class={a.state === 'rejected' ? 'badge danger' : 'badge'}>{applicationBadge(a.state)}</span>{' '}
                <strong data-testid="application-headline">{t.headline}</strong>
              </p>
              <p class="muted small">
                Application #{a.application_id}, sent <time dateTime={a.applied_at}>{utcTime(a.applied_at)}</time>
                {a.decided_at && (
                  <>
                    ; decided <time dateTime={a.decided_at}>{utcTime(a.decided_at)}</time>
                  </>
                )}
                . Royalties to <code title={a.royalty_address}>{short(a.royalty_address)}</code>.
              </p>
              {a.state === 'rejected' && (
                <p data-testid="application-reason">
                  The admin's reason: {a.reason ? <q>{a.reason}</q> : <span class="muted">none given</span>}
                </p>
              )}
            </li>
          );
        })}
      </ul>
      {apps.error && (
        <p class="field-error" role="alert">
          Could not check again: {apps.error}
        </p>
      )}
      {open && (
        <p class="row">
          <button type="button" class="secondary" disabled={apps.checking} onClick={apps.checkNow} data-testid="check-application">
            {apps.checking ? 'Checking…' : 'Check again'}
          </button>
          <span class="muted small">
            {apps.checkedAt && `Checked at ${apps.checkedAt.toLocaleTimeString()}; `}checked again every {APPLICATION_POLL_MS / 1000} s while it waits.
          </span>
        </p>
      )}
    </section>
  );
}

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

function RegisterFilm({ studioId, s, onDone }: { studioId: number; s: Signed; onDone: (f: KnownFilm) => void }) {
  const [title, setTitle] = useState('');
  const [year, setYear] = useState('');
  const [on, setOn] = useState<Record<string, boolean>>({ hd: true, '4k': true });
  const [prices, setPrices] = useState<Record<string, string>>({});
  const [errs, setErrs] = useState<Record<string, string | null>>({});
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<{ ok: boolean; text: string } | null>(null);

  const submit = async (e: Event) => {
    e.preventDefault();
    const next: Record<string, string | null> = { title: nameProblem('title', title), year: yearProblem(year) };
    const editions: { quality: string; price_cents: number }[] = [];
    for (const q of QUALITIES) {
      if (!on[q]) continue;
      const p = parsePrice(prices[q] ?? '');
      if ('error' in p) next[q] = p.error;
      else editions.push({ quality: q, price_cents: p.cents });
    }
    if (!QUALITIES.some((q) => on[q])) next.editions = 'Choose at least one edition.';
    setErrs(next);
    if (Object.values(next).some(Boolean)) return focusFirstInvalid(e);
    setBusy(true);
    setResult(null);
    try {
      const f = await api.registerFilm(s.login.token, studioId, title.trim(), Number(year), editions);
      onDone({ film_id: f.film_id, title: f.title, year: f.year, declared: f.editions.map((d) => ({ quality: d.quality, price_cents: d.price_cents })) });
      setResult({ ok: true, text: `“${f.title}” is registered as film #${f.film_id}. Upload its masters below to put its editions on sale.` });
      setTitle('');
      setYear('');
      setPrices({});
    } catch (err) {
      setResult({ ok: false, text: 'The film was not registered: ' + studioError(err) });
    } finally {
      setBusy(false);
    }
  };

  return (
    <form class="form card" onSubmit={submit} noValidate aria-labelledby="reg-film" data-testid="register-film">
      <h2 id="reg-film">Register a film</h2>
      <Field id="film-title" label="Title" error={errs.title}>
        {(a) => <input {...a} name="title" value={title} maxLength={200} onInput={(e) => setTitle(value(e))} />}
      </Field>
      <Field id="film-year" label="Year" error={errs.year}>
        {(a) => <input {...a} name="year" inputMode="numeric" maxLength={4} class="narrow" value={year} onInput={(e) => setYear(value(e))} />}
      </Field>
      <fieldset aria-describedby={errs.editions ? 'editions-error' : undefined}>
        <legend>Editions and prices (€)</legend>
        {QUALITIES.map((q) => (
          <div class="edition-row" key={q}>
            <label class="check">
              <input type="checkbox" name={`edition-${q}`} checked={!!on[q]} onChange={(e) => setOn({ ...on, [q]: (e.target as HTMLInputElement).checked })} />
              {qualityLabel(q)}
            </label>
            <label for={`price-${q}`} class="visually-hidden">
              Price of {qualityLabel(q)} in euros
            </label>
            <input
              id={`price-${q}`}
              name={`price-${q}`}
              inputMode="decimal"
              placeholder="9.90"
              class="narrow"
              disabled={!on[q]}
              value={prices[q] ?? ''}
              aria-invalid={!!errs[q]}
              aria-describedby={errs[q] ? `price-${q}-error` : undefined}
              onInput={(e) => setPrices({ ...prices, [q]: value(e) })}
            />
            {errs[q] && (
              <span id={`price-${q}-error`} class="field-error" role="alert">
                {qualityLabel(q)}: {errs[q]}
              </span>
            )}
          </div>
        ))}
        {errs.editions && (
          <span id="editions-error" class="field-error" role="alert">
            {errs.editions}
          </span>
        )}
      </fieldset>
      {result && (result.ok ? <p class="success" role="status" data-testid="film-registered">{result.text}</p> : <ErrorBox>{result.text}</ErrorBox>)}
      <p>
        <button type="submit" disabled={busy}>
          {busy ? 'Registering on chain…' : 'Register film'}
        </button>
      </p>
    </form>
  );
}

function FilmCard({ film, known, s, reload }: { film: Film | null; known: KnownFilm | null; s: Signed; reload: () => void }) {
  const id = film?.film_id ?? known?.film_id ?? 0;
  const title = film?.title ?? known?.title ?? '';
  // Answers of this page's own withdraw/reactivate/upload calls win over the (indexed, so a
  // little late) catalogue.
  const [mine, setMine] = useState<Record<string, { active?: boolean; price_cents?: number; floor_cents?: number }>>({});
  const [busy, setBusy] = useState('');
  const [error, setError] = useState('');
  const rows = QUALITIES.flatMap((q) => {
    const chain = film?.editions.find((e) => e.quality === q);
    const declared = known?.declared.find((d) => d.quality === q);
    const local = mine[q];
    if (!chain && !declared && !local) return [];
    const price = local?.price_cents ?? chain?.price_cents ?? declared?.price_cents ?? 0;
    const active = local?.active ?? chain?.active;
    const status = active === undefined ? 'awaiting_master' : active ? 'on_sale' : 'withdrawn';
    const floor = local?.floor_cents ?? chain?.resale_floor_cents ?? 0;
    return [{ q, price, status, floor }];
  });
  const toggle = async (q: string, active: boolean) => {
    setBusy(q);
    setError('');
    try {
      const r = await api.setEditionActive(s.login.token, `${id}-${q}`, active);
      setMine({ ...mine, [q]: { ...mine[q], active: r.active } });
    } catch (err) {
      setError(`${qualityLabel(q)} was not ${active ? 'reactivated' : 'withdrawn'}: ${studioError(err)}`);
    } finally {
      setBusy('');
    }
  };
  return (
    <li class="card" data-film-id={id}>
      <h3>
        {film ? <a href={`/films/${id}`}>{title}</a> : title} <span class="muted small">#{id} · {film?.year ?? known?.year}</span>
      </h3>
      {!film && <p class="muted small">Not in the catalogue yet (it appears once the chain is indexed, within seconds).</p>}
      {rows.length > 0 ? (
        <table class="editions">
          <thead>
            <tr>
              <th scope="col">Edition</th>
              <th scope="col">Price</th>
              <th scope="col">Status</th>
              <th scope="col">
                <span class="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {rows.map((r) => (
              <Fragment key={r.q}>
                <tr data-quality={r.q}>
                  <td>{qualityLabel(r.q)}</td>
                  <td>{money(r.price)}</td>
                  <td data-testid="edition-status">
                    {r.status === 'on_sale' ? 'On sale' : r.status === 'withdrawn' ? 'Withdrawn' : 'Awaiting master'}
                  </td>
                  <td>
                    {r.status !== 'awaiting_master' && (
                      <button type="button" class="secondary small" disabled={busy === r.q} onClick={() => toggle(r.q, r.status !== 'on_sale')}>
                        {busy === r.q ? 'Sending…' : r.status === 'on_sale' ? 'Withdraw' : 'Reactivate'}
                      </button>
                    )}
                  </td>
                </tr>
                {r.status !== 'awaiting_master' && (
                  <tr class="floor-row" data-quality={r.q}>
                    <td colSpan={4}>
                      <ResaleFloorForm
                        editionId={`${id}-${r.q}`}
                        priceCents={r.price}
                        floorCents={r.floor}
                        s={s}
                        onSet={(cents) => setMine({ ...mine, [r.q]: { ...mine[r.q], floor_cents: cents } })}
                      />
                    </td>
                  </tr>
                )}
              </Fragment>
            ))}
          </tbody>
        </table>
      ) : (
        <p class="muted">No edition declared: upload a master with its price below.</p>
      )}
      {error && <ErrorBox>{error}</ErrorBox>}
      <UploadMaster
        filmId={id}
        s={s}
        priced={(q) => rows.find((r) => r.q === q)?.price ?? null}
        onDone={(r) => {
          setMine({ ...mine, [r.quality]: { active: r.active, price_cents: r.price_cents } });
          reload();
        }}
      />
    </li>
  );
}

type UploadPhase =
  | { kind: 'idle' }
  | { kind: 'sending'; sent: number; total: number }
  | { kind: 'processing' }
  | { kind: 'done'; result: MasterPublished }
  | { kind: 'failed'; message: string };

function UploadMaster(p: { filmId: number; s: Signed; priced: (q: string) => number | null; onDone: (r: MasterPublished) => void }) {
  const first = QUALITIES.find((q) => p.priced(q) !== null) ?? 'hd';
  const [quality, setQuality] = useState<string>(first);
  const [price, setPrice] = useState('');
  const [file, setFile] = useState<File | null>(null);
  const [errs, setErrs] = useState<{ file?: string | null; price?: string | null }>({});
  const [phase, setPhase] = useState<UploadPhase>({ kind: 'idle' });
  const current = useRef<Upload | null>(null);
  const idp = `up-${p.filmId}`;
  const known = p.priced(quality);

  const start = async (e?: Event) => {
    e?.preventDefault();
    const next: { file?: string | null; price?: string | null } = {};
    if (!file) next.file = 'Choose the master file.';
    else if (file.size === 0) next.file = 'This file is empty.';
    let cents: number | null = null;
    if (price.trim()) {
      const r = parsePrice(price);
      if ('error' in r) next.price = r.error;
      else cents = r.cents;
    } else if (known === null) next.price = 'Enter a price: this edition was not declared with the film.';
    setErrs(next);
    if (next.file || next.price || !file) return e && focusFirstInvalid(e);
    setPhase({ kind: 'sending', sent: 0, total: file.size });
    const up = uploadMaster(p.s.login.token, `${p.filmId}-${quality}`, file, cents, (sent, total) =>
      setPhase(sent >= total ? { kind: 'processing' } : { kind: 'sending', sent, total }),
    );
    current.current = up;
    try {
      const result = await up.done;
      setPhase({ kind: 'done', result });
      setPrice('');
      p.onDone(result);
    } catch (err) {
      setPhase({ kind: 'failed', message: studioError(err) });
    } finally {
      current.current = null;
    }
  };
  const pct = phase.kind === 'sending' ? Math.floor((phase.sent / Math.max(1, phase.total)) * 100) : phase.kind === 'idle' || phase.kind === 'failed' ? 0 : 100;
  const busy = phase.kind === 'sending' || phase.kind === 'processing';

  return (
    <form class="upload" onSubmit={start} noValidate aria-label={`Upload a master of film ${p.filmId}`} data-testid="upload">
      <h4>Upload a master</h4>
      <p class="muted small">
        The file is sent as it is read from disk, then hashed (SHA-256, the master hash on chain), encrypted and published; the
        edition goes on sale. If the upload breaks, restart it: it starts again from the beginning.
      </p>
      <div class="upload-fields">
        <div class="field">
          <label for={`${idp}-q`}>Edition</label>
          <select id={`${idp}-q`} name="quality" value={quality} disabled={busy} onChange={(e) => setQuality((e.target as HTMLSelectElement).value)}>
            {QUALITIES.map((q) => (
              <option key={q} value={q}>
                {qualityLabel(q)}
              </option>
            ))}
          </select>
        </div>
        <Field id={`${idp}-price`} label="Price (€)" error={errs.price} hint={known === null ? 'Required for this edition.' : `Empty keeps ${money(known)}.`}>
          {(a) => <input {...a} name="price" inputMode="decimal" class="narrow" disabled={busy} value={price} onInput={(e) => setPrice(value(e))} />}
        </Field>
        <Field id={`${idp}-file`} label="Master file" error={errs.file}>
          {(a) => (
            <input
              {...a}
              type="file"
              name="master"
              disabled={busy}
              onChange={(e) => {
                setFile((e.target as HTMLInputElement).files?.[0] ?? null);
                setErrs({ ...errs, file: null });
              }}
            />
          )}
        </Field>
      </div>
      {phase.kind !== 'idle' && (
        <div class="progress" data-testid="upload-progress">
          <progress max={100} value={pct} aria-labelledby={`${idp}-pct`} />
          <span id={`${idp}-pct`} role="status" aria-live="polite" data-testid="upload-percent">
            {phase.kind === 'sending' && `${pct} % sent`}
            {phase.kind === 'processing' && '100 % sent · hashing, encrypting and registering on chain…'}
            {phase.kind === 'done' && '100 % · published'}
            {phase.kind === 'failed' && 'Upload failed'}
          </span>
        </div>
      )}
      {phase.kind === 'done' && (
        <div class="success" data-testid="upload-done">
          <p>
            {qualityLabel(phase.result.quality)} master published ({phase.result.size.toLocaleString('en')} bytes),{' '}
            {phase.result.active ? `on sale at ${money(phase.result.price_cents)}` : 'withdrawn from sale'}.
          </p>
          <p class="small">
            Master hash <LongId value={phase.result.master_hash} />
          </p>
        </div>
      )}
      {phase.kind === 'failed' && <ErrorBox>The upload did not complete: {phase.message}</ErrorBox>}
      <p class="row">
        {phase.kind === 'sending' ? (
          <button type="button" class="secondary" onClick={() => current.current?.cancel()}>
            Cancel upload
          </button>
        ) : (
          <button type="submit" disabled={busy}>
            {phase.kind === 'failed' ? 'Restart upload' : phase.kind === 'processing' ? 'Publishing…' : 'Upload master'}
          </button>
        )}
      </p>
    </form>
  );
}

// ------------------------------------------------------------------ the royalty statement
