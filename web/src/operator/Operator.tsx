// The operator console (loaded on demand, platform admins only — the API checks the market's
// admin role on chain at every request): the operator's float and its movements, the money
// reconciliation of a period, the studio applications waiting for approval ("approve" /
// "reject"), failed refunds and dead jobs with their "refund" / "retry" (each action with a
// reason required), and recent alerts.
import { useState } from 'preact/hooks';
import { ApiError, api, short } from '../api';
import { useLoad, useSession } from '../hooks';
import { signedIn } from '../wallet';
import { FloatSection } from './Float';
import { consoleError } from './parts';
import { AlertsSection, DeadJobsSection, FailedRefundsSection, StudioApplicationsSection } from './Queues';
import { ReconciliationSection } from './Reconciliation';

/** Rows asked for: the float's movements, and the other lists. */
const MOVEMENTS = 100;
const ROWS = 50;

type Denied = 'forbidden' | 'expired' | null;

export function OperatorPage() {
  const s = useSession();
  if (s && signedIn(s) && s.login) return <Console key={`${s.address}:${s.login.token}`} token={s.login.token} address={s.address} />;
  return (
    <section>
      <h1>Operator console</h1>
      <p>
        The platform's operators follow the card float, reconcile Stripe with the chain, and handle failed refunds and
        dead jobs here. It is for the platform admin's wallet only.
      </p>
      <p>
        <a href={`/wallet?next=${encodeURIComponent('/operator')}`}>
          {s ? 'Sign in with your wallet' : 'Unlock or create your wallet'}
        </a>{' '}
        to continue; you come back here afterwards.
      </p>
    </section>
  );
}

function Console({ token, address }: { token: string; address: string }) {
  const [denied, setDenied] = useState<Denied>(null);
  /** A load whose refusal (not an admin, sign-in expired) is the page's, and whose error reads well. */
  function guarded<T>(f: () => Promise<T>): () => Promise<T> {
    return async () => {
      try {
        return await f();
      } catch (e) {
        if (e instanceof ApiError && e.code === 'not_platform_admin') setDenied('forbidden');
        else if (e instanceof ApiError && e.status === 401) setDenied('expired');
        throw new Error(consoleError(e), { cause: e });
      }
    };
  }
  // Every list is asked for at once; the reconciliation only when its report is run.
  const [float, reloadFloat] = useLoad(guarded(() => api.adminFloat(token, MOVEMENTS)), [token]);
  const [refunds, reloadRefunds] = useLoad(guarded(() => api.failedRefunds(token, ROWS)), [token]);
  const [jobs, reloadJobs] = useLoad(guarded(() => api.adminJobs(token, 'dead', ROWS)), [token]);
  const [alerts, reloadAlerts] = useLoad(guarded(() => api.adminAlerts(token, ROWS)), [token]);
  const [applications, reloadApplications] = useLoad(guarded(() => api.studioApplications(token, 'pending')), [token]);
  const [period, setPeriod] = useState<{ from: string; to: string } | null>(null);
  const [report, rerun] = useLoad(
    guarded(() => (period ? api.reconciliation(token, period.from, period.to) : Promise.resolve(null))),
    [token, period],
  );

  if (denied)
    return (
      <section>
        <h1>Operator console</h1>
        <div class="error" role="alert" data-testid="operator-forbidden">
          {denied === 'forbidden' ? (
            <>
              <p>
                <strong>This wallet is not a platform admin.</strong>
              </p>
              <p>
                <code title={address}>{short(address)}</code> does not hold the market's admin role, so the API refuses it the
                operator console. Sign in with the platform admin's wallet to use it.
              </p>
            </>
          ) : (
            <p>Your sign-in has expired or was not accepted: sign in again.</p>
          )}
          <p>
            <a href={`/wallet?next=${encodeURIComponent('/operator')}`}>Go to the wallet page</a>
          </p>
        </div>
      </section>
    );

  const refreshAll = () => {
    reloadFloat();
    reloadRefunds();
    reloadJobs();
    reloadAlerts();
    reloadApplications();
    if (period) rerun();
  };
  return (
    <section class="operator">
      <h1>Operator console</h1>
      <div class="row ops-head">
        <p class="muted small">
          Signed in as <code title={address}>{short(address)}</code>. Amounts in euros, times in UTC.
        </p>
        <button type="button" class="secondary" data-testid="operator-refresh" onClick={refreshAll}>
          Refresh
        </button>
      </div>
      <FloatSection load={float} retry={reloadFloat} />
      <ReconciliationSection
        report={report}
        retry={rerun}
        run={(p) => (period && p.from === period.from && p.to === period.to ? rerun() : setPeriod(p))}
      />
      <StudioApplicationsSection load={applications} reload={reloadApplications} token={token} />
      <FailedRefundsSection load={refunds} reload={reloadRefunds} token={token} />
      <DeadJobsSection load={jobs} reload={reloadJobs} token={token} />
      <AlertsSection load={alerts} retry={reloadAlerts} />
    </section>
  );
}
