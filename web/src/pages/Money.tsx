// The library's money panel: what the wallet can spend or withdraw now (its resales' proceeds),
// what is pending, and a withdrawal to any address. The withdrawal is a credit order the wallet
// signs and Tangible's operator sends (`POST /v1/accounts/{address}/withdrawals`): no ETH needed.
import { useState } from 'preact/hooks';
import { getAddress, isAddress } from 'viem';
import { api, errorMessage, money, unitsToCents, type AccountView, type PublicConfig } from '../api';
import { useLoad } from '../hooks';
import { EARLIER_ORDER_RAN, creditOrder, sendOrder } from '../orders';
import { addressProblem, parsePrice } from '../studio/model';
import { Loaded, LongId } from '../ui';
import type { Session } from '../wallet';
import { RelayStatus, SENDING, SIGNING, chainDate, type RelayPhase } from './Resale';

/**
 * What the wallet can withdraw now, and what is pending: the shares of card sales (its resales
 * bought by card) until the card payment can no longer be disputed.
 */
export function Money({ session, config }: { session: Session; config: PublicConfig }) {
  const owner = session.address;
  const [account, retry] = useLoad(() => api.account(owner), [owner]);
  return (
    <Loaded load={account} what="your balance" retry={retry}>
      {(a: AccountView) => {
        const available = unitsToCents(a.credit_units, a.units_per_cent);
        if (available === 0 && a.pending_cents === 0 && a.history.length === 0) return null;
        return (
          <div class="card money" data-testid="money">
            <h2>Your money</h2>
            <p>
              Available: <strong data-testid="available">{money(available, config.currency)}</strong>
              {a.pending_cents > 0 && (
                <>
                  {' '}
                  · Pending: <strong data-testid="pending">{money(a.pending_cents, config.currency)}</strong>
                </>
              )}
            </p>
            {a.pending.length > 0 && (
              <ul class="muted small">
                {a.pending.map((p) => (
                  <li key={`${p.licence_id}-${p.role}`} title={`The sale that minted licence #${p.licence_id}`}>
                    {money(p.cents, config.currency)} from {p.role === 'seller' ? 'a resale of yours' : 'a sale'}, available
                    from {chainDate(p.clear_at)} (a card payment can be disputed until then)
                  </li>
                ))}
              </ul>
            )}
            {available > 0 && (
              <>
                <p class="muted small">
                  Spend it on a film (choose “Pay with your balance” at the checkout) or withdraw it to any address.
                </p>
                <Withdraw session={session} config={config} available={available} done={retry} />
              </>
            )}
            {a.history.length > 0 && <History account={a} currency={config.currency} />}
          </div>
        );
      }}
    </Loaded>
  );
}

type Move = AccountView['history'][number];

/** What a move does to the balance (+ in, − out, = a pending amount becoming available) and says. */
function describe(m: Move): { sign: '+' | '−' | '='; what: string } {
  switch (m.kind) {
    case 'sale':
      return { sign: '+', what: m.pending ? 'Your share of a resale, pending until the card payment clears' : 'Your share of a resale' };
    case 'cleared':
      return { sign: '=', what: 'A card payment cleared: that share is now available' };
    case 'clawed_back':
      return { sign: '−', what: 'Taken back: the card payment of that sale was disputed' };
    case 'refund':
      return { sign: '+', what: 'Refunded: a disputed sale was undone' };
    case 'withdrawal':
      return { sign: '−', what: `Withdrawn to ${m.to_address && isAddress(m.to_address) ? getAddress(m.to_address) : 'an address'}` };
    case 'deposit':
      return { sign: '+', what: 'Deposited' };
    case 'credit_purchase':
      return { sign: '−', what: 'A licence bought with your balance' };
    default:
      return { sign: '=', what: m.kind };
  }
}

/** The account's latest money moves, newest first, each with its transaction. */
function History({ account, currency }: { account: AccountView; currency: string }) {
  return (
    <details class="history" open data-testid="money-history">
      <summary>History</summary>
      <ul>
        {account.history.map((m) => {
          const d = describe(m);
          return (
            <li key={`${m.tx_hash}-${m.kind}-${m.licence_id ?? ''}`} data-kind={m.kind}>
              <span class="amount">
                {d.sign === '=' ? '' : d.sign} {money(unitsToCents(m.amount_units, account.units_per_cent), currency)}
              </span>{' '}
              <span class="wrap">{d.what}</span>
              <span class="muted small">
                {' '}
                · block {m.block_number} · <LongId value={m.tx_hash} />
              </span>
            </li>
          );
        })}
      </ul>
    </details>
  );
}

/**
 * Why `v` cannot receive a withdrawal: not an address, a mistyped one (its EIP-55 checksum, when
 * written in mixed case, does not match), or one of Tangible's own contracts (the stablecoin sent
 * there would be lost).
 */
export function payeeProblem(v: string, config: PublicConfig): string | null {
  const shape = addressProblem(v);
  if (shape) return shape;
  const a = v.trim();
  if (!isAddress(a, { strict: true })) return 'This address has a typing mistake (its checksum does not match): copy it again.';
  if (/^0x0{40}$/.test(a)) return 'Not the zero address.';
  if (Object.values(config.deployment.contracts).some((c) => c.toLowerCase() === a.toLowerCase()))
    return "This is one of Tangible's contracts: money sent there would be lost. Give your own address.";
  return null;
}

/** Pays part or all of the available credit to an address, in the market's stablecoin. */
function Withdraw({ session, config, available, done }: { session: Session; config: PublicConfig; available: number; done: () => void }) {
  const [amount, setAmount] = useState((available / 100).toFixed(2));
  const [to, setTo] = useState('');
  const [touched, setTouched] = useState(false);
  const [phase, setPhase] = useState<RelayPhase>({ kind: 'idle' });
  const [stopped, setStopped] = useState(false);
  const parsed = parsePrice(amount);
  const amountProblem =
    'error' in parsed
      ? 'Enter an amount in euros, like 6.40.'
      : parsed.cents > available
        ? `You can withdraw at most ${money(available, config.currency)}.`
        : null;
  const toProblem = payeeProblem(to, config);
  const busy = phase.kind === 'busy';

  const submit = async (e: Event) => {
    e.preventDefault();
    setTouched(true);
    if (amountProblem || toProblem || !('cents' in parsed)) return;
    const cents = parsed.cents;
    try {
      const payee = getAddress(to.trim());
      setPhase({ kind: 'busy', step: SIGNING });
      const r = await sendOrder(
        session,
        creditOrder(session, config, 'withdraw', 0n, cents, payee),
        (signed) => api.withdrawCredit(session.address, payee, cents, signed),
        () => setPhase({ kind: 'busy', step: SENDING }),
      );
      setPhase({ kind: 'done', message: `${money(cents, config.currency)} sent to ${payee}.`, tx: r.tx_hash });
      // The panel re-reads the balance; the message stays with the new figures.
      setTimeout(done, 2500);
    } catch (err) {
      // An order ran since an attempt of unknown outcome (maybe this withdrawal): no more
      // withdrawals from this form until the page is reloaded with the new balance.
      if (err instanceof Error && err.message === EARLIER_ORDER_RAN) setStopped(true);
      setPhase({ kind: 'failed', message: errorMessage(err) });
    }
  };

  return (
    <form class="withdraw" onSubmit={submit} noValidate data-testid="withdraw">
      <div class="row">
        <label class="field">
          Amount (€)
          <input
            name="amount"
            class="narrow"
            inputMode="decimal"
            autoComplete="off"
            value={amount}
            aria-invalid={touched && !!amountProblem}
            onInput={(e) => setAmount(e.currentTarget.value)}
          />
        </label>
        <label class="field grow">
          To the address
          <input
            name="to"
            class="mono"
            placeholder="0x…"
            autoComplete="off"
            spellcheck={false}
            value={to}
            aria-invalid={touched && !!toProblem}
            onInput={(e) => setTo(e.currentTarget.value)}
          />
        </label>
        <button type="submit" disabled={busy || stopped}>
          Withdraw
        </button>
      </div>
      {touched && amountProblem && <p class="field-error">{amountProblem}</p>}
      {touched && toProblem && <p class="field-error">{toProblem}</p>}
      <RelayStatus phase={phase} testid="withdraw-done" />
    </form>
  );
}
