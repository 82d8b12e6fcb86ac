// The resale floor of one edition in the studio dashboard: the lowest price a licence of it can
// be listed, repriced or sold at on the market. The form checks half the current price; the
// contract's bound is half the lowest price the edition ever had, and the API's refusal says so.
// Sent by the API's operator on the studio admin's behalf.
import { useState } from 'preact/hooks';
import { api, money } from '../api';
import { parseResaleFloor } from './model';
import { studioError, type Signed } from './forms';

export function ResaleFloorForm(p: { editionId: string; priceCents: number; floorCents: number; s: Signed; onSet: (cents: number) => void }) {
  const [input, setInput] = useState('');
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  const id = `floor-${p.editionId}`;
  const submit = async (e: Event) => {
    e.preventDefault();
    const r = parseResaleFloor(input, p.priceCents);
    if ('error' in r) {
      setError(r.error);
      return;
    }
    setError('');
    setBusy(true);
    try {
      const done = await api.setResaleFloor(p.s.login.token, p.editionId, r.cents);
      setInput('');
      p.onSet(done.floor_cents);
    } catch (err) {
      setError(studioError(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <form class="row floor" noValidate onSubmit={submit} data-testid="resale-floor-form">
      <span class="small">
        Lowest resale price: <strong data-testid="resale-floor-value">{p.floorCents > 0 ? money(p.floorCents) : 'None'}</strong>
      </span>
      <label class="visually-hidden" for={id}>
        New lowest resale price (€)
      </label>
      <input
        id={id}
        class="narrow"
        inputMode="decimal"
        autoComplete="off"
        placeholder={`≤ ${(Math.floor(p.priceCents / 2) / 100).toFixed(2)}`}
        value={input}
        aria-invalid={!!error}
        aria-describedby={error ? `${id}-error` : undefined}
        onInput={(e) => setInput(e.currentTarget.value)}
      />
      <button type="submit" class="secondary small" disabled={busy}>
        {busy ? 'Sending…' : 'Set'}
      </button>
      {error && (
        <span id={`${id}-error`} class="field-error" role="alert">
          {error}
        </span>
      )}
    </form>
  );
}
