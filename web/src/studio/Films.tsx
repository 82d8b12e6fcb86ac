// A studio's films in the studio dashboard: register a film with its editions' prices, and each
// film's card: its editions (withdraw/reactivate, resale floor) and a master's upload with progress.
import { Fragment } from 'preact';
import { useRef, useState } from 'preact/hooks';
import { api, money, type Film, type MasterPublished } from '../api';
import { ErrorBox, LongId, qualityLabel } from '../ui';
import { QUALITIES, nameProblem, parsePrice, yearProblem, type KnownFilm } from './model';
import { focusFirstInvalid, studioError, value, type Signed } from './forms';
import { Field } from './Field';
import { ResaleFloorForm } from './ResaleFloor';
import { uploadMaster, type Upload } from './upload';

export function RegisterFilm({ studioId, s, onDone }: { studioId: number; s: Signed; onDone: (f: KnownFilm) => void }) {
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

export function FilmCard({ film, known, s, reload }: { film: Film | null; known: KnownFilm | null; s: Signed; reload: () => void }) {
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
