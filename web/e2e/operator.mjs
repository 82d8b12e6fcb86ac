// The operator console (/operator) in headless Chromium against the same devstack as the other
// scenarios, run after them (their card purchases are on this stack, all fulfilled). A fresh key,
// signed in, is refused: "This wallet is not a platform admin" (the four lists answer 403
// not_platform_admin, and nothing else is shown). Then, after "Lock", the devstack's platform
// admin — anvil's account 0, the deployer, operator and holder of the market's DEFAULT_ADMIN_ROLE
// (crates/devstack/src/chain.rs: ANVIL_KEYS[OPERATOR], `DeployConfig { admin: operator, … }`) —
// imports its key and signs in: a studio application made from a fresh key through the API
// (POST /v1/studios, 202) is listed under "Studio applications" (name, applicant, royalty
// address, time); "Reject" with no reason is refused with the reason's message, then with a
// reason the row leaves the pending list and GET /v1/studios/applications?state=rejected lists it
// rejected with that reason (the approval is studio.mjs's, through the API); the float shows a
// balance > 0 (as GET /v1/admin/float gives it) and the devstack's deposit among its movements; today's reconciliation reconciles to the cent
// with the amounts of GET /v1/admin/reconciliation; the failed refunds, dead jobs and alerts
// list what the API lists (likely nothing: "None", "No alert"); "Refresh" reloads every section.
// Screenshots at 390 and 1440 px; any console error, page error, failed request or unexpected
// HTTP error fails the run. (The reason check of "Refund" and "Retry" needs rows the stack does
// not have: it is unit-tested, src/test/operator.test.ts.)
//
// usage: node web/e2e/operator.mjs <base-url> <screenshot-folder>
import { randomBytes } from 'node:crypto';
import { OPERATOR_KEY, check, open, signInKey } from './harness.mjs';

const base = process.argv[2] ?? 'http://127.0.0.1:8080';
const out = process.argv[3] ?? 'e2e-output';
/** What the console asks for when it opens (the reconciliation waits for "Run report"). */
const LISTS = ['/v1/admin/float', '/v1/admin/refunds/failed', '/v1/admin/jobs', '/v1/admin/alerts'];
// (…and the pending studio applications, GET /v1/studios/applications?state=pending, which
// answers a wallet that is not a platform admin its own: no 403 there.)

const h = await open('operator', out);
const { page, expectedErrors, expectedConsole, step } = h;
const screenshot = (name) => h.screenshot(name);
/** Repeats `f` (after `between`) until it answers a truthy value, for at most `seconds`. */
async function until(what, seconds, f, between = async () => page.waitForTimeout(250)) {
  const end = Date.now() + seconds * 1000;
  for (;;) {
    const v = await f();
    if (v) return v;
    check(Date.now() < end, `${what} within ${seconds} s`);
    await between();
  }
}
const eur = (c) => new Intl.NumberFormat('en-IE', { style: 'currency', currency: 'EUR' }).format(c / 100);
const text = async (selector) => ((await page.locator(selector).textContent()) ?? '').trim();
/** On the wallet page: imports `key` (the Import tab) and signs in. */
async function importKey(key) {
  await page.getByRole('tab', { name: 'Import' }).click();
  await page.fill('textarea', key);
  await page.fill('input[name=password]', 'operator password 123');
  await page.fill('input[name=confirm]', 'operator password 123');
  await page.click('text=Import wallet');
}

await h.run(async () => {
  step('the console asks for a wallet');
  await page.goto(base + '/operator');
  await page.getByRole('heading', { name: 'Operator console' }).waitFor();
  await page.getByText('Unlock or create your wallet').waitFor();
  await screenshot('no-wallet');

  step('a fresh key, signed in: not a platform admin');
  for (const path of LISTS) {
    expectedErrors.push({ path, status: 403 });
    expectedConsole.push(/status of 403/);
  }
  await page.getByText('Unlock or create your wallet').click();
  await importKey('0x' + randomBytes(32).toString('hex'));
  const denied = page.locator('[data-testid=operator-forbidden]');
  await denied.waitFor({ timeout: 60_000 });
  check(new URL(page.url()).pathname === '/operator', `back on the console: ${page.url()}`);
  check((await denied.textContent()).includes('This wallet is not a platform admin'), `the refusal: ${await denied.textContent()}`);
  check((await page.locator('[data-testid=operator-float]').count()) === 0, 'no section shown to a non-admin');
  // Every list was asked for at once: the page has its four answers (403) before it moves on.
  await until('the four 403 answers', 30, async () => expectedErrors.length === 0 && expectedConsole.length === 0);
  await screenshot('forbidden');

  step('lock; the platform admin (anvil account 0) imports its key and signs in');
  // In-app navigation from here on: the unlocked key lives in the tab's memory, a reload drops it.
  await page.click('[data-testid=wallet-link]');
  await page.click('button:has-text("Lock")');
  await page.locator('select').waitFor();
  await page.click('[data-testid=operator-link]');
  await page.getByText('Unlock or create your wallet').click();
  await importKey(OPERATOR_KEY);
  await page.locator('[data-testid=float-balance]').waitFor({ timeout: 60_000 });
  check(new URL(page.url()).pathname === '/operator', `back on the console: ${page.url()}`);
  check((await page.locator('[data-testid=operator-forbidden]').count()) === 0, 'the admin is not refused');

  // The same figures from the API, with the admin's own token (signed in from Node).
  const admin = await signInKey(base, OPERATOR_KEY);
  async function get(path) {
    const r = await fetch(base + path, { headers: { authorization: `Bearer ${admin.token}` } });
    const json = await r.json().catch(() => null);
    check(r.ok, `GET ${path}: ${r.status} ${JSON.stringify(json)}`);
    return json;
  }

  step('a studio application from a fresh key: listed, an empty reason refused, then rejected with a reason');
  const applicant = await signInKey(base, '0x' + randomBytes(32).toString('hex'));
  const studioName = `Applicant ${Date.now().toString(36)}`;
  const applied = await fetch(base + '/v1/studios', {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${applicant.token}` },
    body: JSON.stringify({ name: studioName, royalty_address: applicant.account.address }),
  });
  const application = await applied.json().catch(() => null);
  check(applied.status === 202 && application?.state === 'pending', `POST /v1/studios by a fresh key: 202 pending (${applied.status} ${JSON.stringify(application)})`);
  const appId = application.application_id;
  // The console read its lists at sign-in, before this application: "Refresh" reads them again.
  await page.click('[data-testid=operator-refresh]');
  const apps = page.locator('[data-testid=operator-studio-applications]');
  const row = apps.locator(`[data-testid=studio-application-${appId}]`);
  await row.waitFor({ timeout: 30_000 });
  const rowText = (await row.textContent()) ?? '';
  check(rowText.includes(studioName), `the studio's name in the row: "${rowText}"`);
  check(rowText.includes(applicant.account.address), `the applicant's address in the row: "${rowText}"`);
  check(rowText.includes(application.royalty_address), `the royalty address in the row: "${rowText}"`);
  check(rowText.includes(`${new Date(Date.parse(application.applied_at)).toISOString().slice(0, 16).replace('T', ' ')} UTC`), `the time it was sent: "${rowText}"`);
  const pendingNow = await get('/v1/studios/applications?state=pending');
  const listed = await apps.locator('[data-testid=studio-applications] tbody tr').evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-application-id')));
  check(listed.join() === pendingNow.applications.map((a) => String(a.application_id)).join(), `the pending applications: ${listed} = the API's ${pendingNow.applications.map((a) => a.application_id)}`);
  check((await row.locator('button:has-text("Approve")').count()) === 1 && (await row.locator('button:has-text("Reject")').count()) === 1, 'Approve and Reject on the row');
  await screenshot('studio-applications');
  await row.locator('button:has-text("Reject")').click();
  const reasonForm = row.locator('[data-testid=reason-form]');
  await reasonForm.locator('button[type=submit]').click();
  const reasonError = row.locator('[data-testid=reason-error]');
  await reasonError.waitFor();
  check(((await reasonError.textContent()) ?? '').includes('Enter the reason'), `an empty reason is refused: "${await reasonError.textContent()}"`);
  check((await get('/v1/studios/applications?state=pending')).applications.some((a) => a.application_id === appId), 'nothing sent: still pending');
  await screenshot('studio-application-reason');
  const reason = `No such company (${studioName})`;
  await reasonForm.locator('input[name=reason]').fill(reason);
  await reasonForm.locator('button[type=submit]').click();
  const decided = apps.locator('[data-testid=application-decided]');
  await decided.waitFor({ timeout: 30_000 });
  const decidedText = (await decided.textContent()) ?? '';
  check(decidedText.includes(`Rejected “${studioName}”`) && decidedText.includes(reason), `the rejection said: "${decidedText}"`);
  await row.waitFor({ state: 'detached', timeout: 30_000 });
  await apps.locator('[data-testid=studio-applications-empty], [data-testid=studio-applications] tbody tr').first().waitFor();
  const rejected = await get('/v1/studios/applications?state=rejected');
  const ours = rejected.applications.find((a) => a.application_id === appId);
  check(ours?.state === 'rejected' && ours.reason === reason, `listed rejected with its reason: ${JSON.stringify(ours)}`);
  check(ours.decided_by?.toLowerCase() === admin.account.address.toLowerCase() && ours.studio_id === null, `decided by the platform admin, no studio: ${JSON.stringify(ours)}`);
  check(!(await get('/v1/studios/applications?state=pending')).applications.some((a) => a.application_id === appId), 'no longer pending');
  await screenshot('studio-application-rejected');

  step('the float: a balance, the threshold, and the deposit among its movements');
  const float = await get('/v1/admin/float?limit=100');
  check(float.balance_cents > 0, `a float on the stack: ${JSON.stringify(float)}`);
  check((await text('[data-testid=float-balance]')) === eur(float.balance_cents), `balance ${await text('[data-testid=float-balance]')} = ${eur(float.balance_cents)}`);
  check((await text('[data-testid=float-warning]')) === eur(float.warning_cents), 'the alert threshold shown');
  // Card settlements count against the market's daily limit (50,000 € by default; the scenarios before this
  // one paid by card today, unless the UTC day turned meanwhile).
  check(float.daily_limit_cents === 5_000_000, `the daily card limit: ${float.settled_today_cents} of ${float.daily_limit_cents}`);
  check(
    (await text('[data-testid=float-daily]')) === `${eur(float.settled_today_cents)} of ${eur(float.daily_limit_cents)} a day`,
    `card settled today shown: ${await text('[data-testid=float-daily]')}`,
  );
  check((await page.locator('[data-testid=float-low]').count()) === (float.low ? 1 : 0), `LOW shown only when low (${float.low})`);
  await screenshot('float');
  if (await page.locator('[data-testid=float-show-all]').count()) await page.click('[data-testid=float-show-all]');
  const movements = page.locator('[data-testid=float-movements] tbody tr');
  check((await movements.count()) === float.movements.length, `every movement listed: ${await movements.count()} = ${float.movements.length}`);
  const kinds = await movements.evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-kind')));
  check(kinds.join() === float.movements.map((m) => m.kind).join(), `movements in the API's order: ${kinds}`);
  const deposit = page.locator('[data-testid=float-movements] tr[data-kind=deposit]').first();
  check((await deposit.count()) === 1, `a deposit movement: ${kinds}`);
  const depositAmount = ((await deposit.locator('td').nth(1).textContent()) ?? '').trim();
  check(/^\+€[\d,]+\.\d{2}$/.test(depositAmount), `the deposit is an amount in, in euros: "${depositAmount}"`);

  step("today's reconciliation reconciles to the cent");
  const today = new Date().toISOString().slice(0, 10);
  await page.fill('#rec-from', today);
  await page.fill('#rec-to', today);
  await page.click('[data-testid=run-report]');
  const status = page.locator('[data-testid=reconciliation-status]');
  await status.waitFor({ timeout: 60_000 });
  const rec = await get(`/v1/admin/reconciliation?from=${today}&to=${today}`);
  const verdict = (await status.textContent()) ?? '';
  check(verdict.includes('Reconciles to the cent'), `"${verdict}"; the API's report: ${JSON.stringify(rec)}`);
  check(rec.difference === 0 && rec.mismatches.length === 0, `the API's report balances: ${JSON.stringify(rec)}`);
  // The earlier scenarios' card purchases are today's charges (unless the run crossed midnight UTC).
  if (new Date().getUTCHours() >= 1) check(rec.charges > 0, `today's charges in the report: ${JSON.stringify(rec)}`);
  for (const [id, cents] of [
    ['rec-charged', rec.stripe_charged_cents],
    ['rec-settled', rec.settled_cents],
    ['rec-refunded', rec.refunded_cents],
    ['rec-pending', rec.pending_cents],
    ['rec-difference', rec.difference],
  ])
    check((await text(`[data-testid=${id}]`)) === eur(cents), `${id}: ${await text(`[data-testid=${id}]`)} = ${eur(cents)}`);
  check(rec.stripe_charged_cents === rec.settled_cents + rec.refunded_cents + rec.pending_cents, 'charged = settled + refunded + pending');
  await page.locator('[data-testid=no-mismatch]').waitFor();
  await screenshot('reconciliation');

  step('failed refunds, dead jobs and alerts: what the API lists');
  for (const [section, path, empty, emptyText, table, attr, key] of [
    ['operator-failed-refunds', '/v1/admin/refunds/failed?limit=50', 'failed-refunds-empty', 'None', 'failed-refunds', 'data-purchase-id', 'purchase_id'],
    ['operator-dead-jobs', '/v1/admin/jobs?state=dead&limit=50', 'dead-jobs-empty', 'None', 'dead-jobs', 'data-job-id', 'job_id'],
    ['operator-alerts', '/v1/admin/alerts?limit=50', 'alerts-empty', 'No alert', 'alerts', 'data-alert-id', 'alert_id'],
  ]) {
    const sec = page.locator(`[data-testid=${section}]`);
    await sec.locator(`[data-testid=${empty}], [data-testid=${table}] tbody tr`).first().waitFor();
    const list = await get(path);
    const rows = await sec.locator(`[data-testid=${table}] tbody tr`).evaluateAll((trs, a) => trs.map((tr) => tr.getAttribute(a)), attr);
    if (list.length === 0) {
      const shown = ((await sec.locator(`[data-testid=${empty}]`).textContent()) ?? '').trim();
      check(rows.length === 0 && shown.startsWith(emptyText), `${section}: "${emptyText}" (${shown})`);
    } else {
      check(rows.join() === list.map((x) => String(x[key])).join(), `${section}: rows ${rows} = the API's ${list.map((x) => x[key])}`);
      if (section !== 'operator-alerts')
        check((await sec.locator('button:has-text("Refund"), button:has-text("Retry")').count()) === list.length, `${section}: an action per row`);
    }
  }
  await screenshot('lists');

  step('Refresh reloads every section (and the report)');
  const seen = [];
  const follow = (r) => {
    if (r.url().includes('/v1/admin/') || r.url().includes('/v1/studios/applications')) seen.push(new URL(r.url()).pathname);
  };
  page.on('response', follow);
  await page.click('[data-testid=operator-refresh]');
  await until('the six answers', 60, async () =>
    [...LISTS, '/v1/studios/applications', '/v1/admin/reconciliation'].every((p) => seen.includes(p)),
  );
  page.off('response', follow);
  await page.locator('[data-testid=float-balance]').waitFor();
  await status.waitFor({ timeout: 60_000 });
  check(((await status.textContent()) ?? '').includes('Reconciles to the cent'), 'still reconciles after the refresh');
  await screenshot('console');
});
