// The studio dashboard in headless Chromium against the same devstack as checkout.mjs: a studio
// applies for registration (202: the page says the application waits for a platform admin),
// is approved by the devstack's platform admin through the API and reaches its studio page on
// its own (the dashboard checks again every 5 s), registers a film, uploads a master (a first attempt broken on purpose, then the
// restart, the progress bar reaching 100 %), withdraws and reactivates the edition, sees the
// film in the catalogue, sells it (card checkout), and reads the sale in its royalty statement,
// whose CSV download must match GET /v1/studios/{id}/statement. A film titled with an HTML/script
// payload must be shown as text. Screenshots at 390 and 1440 px; any console error, page error,
// failed request or unexpected HTTP error fails the run.
//
// usage: node web/e2e/studio.mjs <base-url> <screenshot-folder>
/* global window, document, MutationObserver */
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { approveStudio, check, open } from './harness.mjs';

const base = process.argv[2] ?? 'http://127.0.0.1:8080';
const out = process.argv[3] ?? 'e2e-output';

const h = await open('studio', out, { acceptDownloads: true });
const { page, expectedFailures, expectedConsole, expectedErrors, step } = h;
const screenshot = (name) => h.screenshot(name);
/** Repeats `f` (after `between`) until it answers a truthy value, for at most `seconds`. */
async function until(what, seconds, f, between = async () => page.waitForTimeout(1000)) {
  const end = Date.now() + seconds * 1000;
  for (;;) {
    const v = await f();
    if (v) return v;
    check(Date.now() < end, `${what} within ${seconds} s`);
    await between();
  }
}
async function getJson(path) {
  const r = await fetch(base + path);
  check(r.ok, `GET ${path}: ${r.status}`);
  return r.json();
}
/** The API's CSV (no quoted fields: ids, hashes, numbers) as objects keyed by the header. */
function parseCsv(text) {
  const [head, ...rows] = text.trim().split('\n').map((l) => l.split(','));
  return rows.map((r) => Object.fromEntries(head.map((h, i) => [h, r[i]])));
}

/** No element parsed from the payload, nothing of it run (CSP would also block the handler). */
async function nothingInjected(where) {
  const found = await page.evaluate(() => ({
    xss: window.__xss ?? null,
    imgs: document.querySelectorAll('main img').length,
    scripts: document.querySelectorAll('main script').length,
  }));
  check(found.xss === null && found.imgs === 0 && found.scripts === 0, `${where}: nothing injected ran or was parsed: ${JSON.stringify(found)}`);
}

const stamp = Date.now().toString(36);
const filmTitle = `Studio Reel ${stamp}`;
const payload = `<img src=x onerror="window.__xss=1"><script>window.__xss=2</script> Reel ${stamp}`;
await h.run(async () => {
  step('the dashboard asks for a wallet');
  await page.goto(base + '/studio');
  await page.getByText('Unlock or create your wallet').waitFor();
  await screenshot('no-wallet');

  step('import a fresh key and sign in');
  await page.getByText('Unlock or create your wallet').click();
  await page.getByRole('tab', { name: 'Import' }).click();
  await page.fill('textarea', '0x' + randomBytes(32).toString('hex'));
  await page.fill('input[name=password]', 'studio password 123');
  await page.fill('input[name=confirm]', 'studio password 123');
  await page.click('text=Import wallet');
  await page.getByRole('heading', { name: 'Studio dashboard' }).waitFor({ timeout: 60_000 });
  await page.locator('input[name=studio-name]').waitFor({ timeout: 60_000 });
  check(new URL(page.url()).pathname === '/studio', `back on the dashboard: ${page.url()}`);

  step('register a studio (an empty name first)');
  await page.click('button:has-text("Register studio")');
  await page.getByText('Enter the studio name.').waitFor();
  await screenshot('home-errors');
  // By keyboard: the refused submit put the focus on the field to fix; Tab, Tab, Enter submits.
  const focused = () => page.evaluate(() => document.activeElement?.getAttribute('name') ?? document.activeElement?.textContent);
  await until('the focus on the studio name', 5, async () => (await focused()) === 'studio-name', () => page.waitForTimeout(100));
  await page.keyboard.type(`Studio ${stamp}`);
  await page.keyboard.press('Tab');
  check((await focused()) === 'royalty', `Tab goes to the royalty address (${await focused()})`);
  await page.keyboard.press('Tab');
  check((await focused()) === 'Register studio', `then to the button (${await focused()})`);
  await page.keyboard.press('Enter');

  step('the application waits for a platform admin; once approved, the page opens the studio on its own');
  const pending = page.locator('[data-testid=studio-applications] li[data-state=pending]');
  await pending.waitFor({ timeout: 60_000 });
  const pendingText = (await pending.textContent()) ?? '';
  const applicationId = Number((await pending.getAttribute('data-testid'))?.match(/^studio-application-(\d+)$/)?.[1]);
  check(applicationId > 0, `the application's id on its card: ${await pending.getAttribute('data-testid')}`);
  check(
    pendingText.includes(`Application sent — a platform admin must approve Studio ${stamp} before you can add films`),
    `the pending application is said: "${pendingText}"`,
  );
  check(pendingText.includes(`Application #${applicationId}`) && /sent \d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC/.test(pendingText), `its id and date: "${pendingText}"`);
  check(new URL(page.url()).pathname === '/studio', `still on the dashboard while it waits: ${page.url()}`);
  await page.locator('[data-testid=check-application]').waitFor();
  await screenshot('application-pending');
  const approvedId = await approveStudio(base, applicationId, `Studio scenario ${stamp}`);
  await page.waitForURL(/\/studio\/\d+$/, { timeout: 30_000 });
  const studioId = Number(new URL(page.url()).pathname.split('/').pop());
  check(studioId === approvedId, `the page opened the approved studio: #${studioId} = #${approvedId}`);
  await page.getByRole('heading', { name: `Studio ${stamp} (studio #${studioId})` }).waitFor();

  step('register a film (invalid fields first)');
  const form = page.locator('[data-testid=register-film]');
  await form.locator('input[name=year]').fill('1700');
  await form.locator('button[type=submit]').click();
  await form.getByText('Enter the title.').waitFor();
  await form.getByText('The year must be between 1870 and 2200.').waitFor();
  await form.getByText('HD: Enter a price.').waitFor();
  await screenshot('film-errors');
  await form.locator('input[name=title]').fill(filmTitle);
  await form.locator('input[name=year]').fill('2026');
  await form.locator('input[name=price-hd]').fill('7.50');
  await form.locator('input[name=edition-4k]').uncheck();
  await form.locator('button[type=submit]').click();
  const registered = await form.locator('[data-testid=film-registered]').textContent({ timeout: 60_000 });
  const filmId = Number(registered.match(/film #(\d+)/)?.[1]);
  check(filmId > 0, `film id in "${registered}"`);
  const card = page.locator(`[data-film-id="${filmId}"]`);
  check((await card.locator('tr[data-quality=hd] [data-testid=edition-status]').textContent()) === 'Awaiting master', 'HD awaits its master');

  step('upload a 3 MiB master: the first attempt breaks, the restart completes at 100 %');
  const master = randomBytes(3 << 20);
  await card.locator('select[name=quality]').selectOption('hd');
  await card.locator('input[name=master]').setInputFiles({ name: 'reel-hd.mp4', mimeType: 'video/mp4', buffer: master });
  const masterUrl = `/v1/editions/${filmId}-hd/master`;
  await page.route(`**${masterUrl}`, (route) => route.abort('connectionreset'), { times: 1 });
  expectedFailures.push(masterUrl);
  expectedConsole.push(/ERR_CONNECTION_RESET|Failed to load resource/);
  await card.locator('button:has-text("Upload master")').click();
  await card.getByText('The upload did not complete').waitFor();
  await card.locator('button:has-text("Restart upload")').waitFor();
  await screenshot('upload-failed');
  await page.unroute(`**${masterUrl}`);
  // Every value the bar takes, from the page, to see it move and reach 100.
  await page.evaluate(() => {
    window.__progress = [];
    new MutationObserver(() => {
      const p = document.querySelector('[data-testid=upload-progress] progress');
      if (p) window.__progress.push(Number(p.value));
    }).observe(document.body, { subtree: true, attributes: true, childList: true, attributeFilter: ['value'] });
  });
  await card.locator('button:has-text("Restart upload")').click();
  await card.locator('[data-testid=upload-done]').waitFor({ timeout: 120_000 });
  const bar = await card.locator('[data-testid=upload-progress] progress').evaluate((p) => p.value);
  const seen = await page.evaluate(() => window.__progress);
  check(bar === 100, `progress bar at 100 (${bar})`);
  check((await card.locator('[data-testid=upload-percent]').textContent()).startsWith('100 %'), 'progress reads 100 %');
  check(seen.length > 0 && seen.every((v, i) => i === 0 || v >= seen[i - 1]), `progress only grows: ${seen}`);
  const done = await card.locator('[data-testid=upload-done]').textContent();
  const sha = createHash('sha256').update(master).digest('hex');
  check(done.includes((3 << 20).toLocaleString('en')) && done.includes('on sale at €7.50'), `upload result: ${done}`);
  check((await card.locator('[data-testid=upload-done] code').getAttribute('title')) === '0x' + sha, 'master hash = SHA-256 of the file');
  check((await card.locator('tr[data-quality=hd] [data-testid=edition-status]').textContent()) === 'On sale', 'HD on sale');
  await screenshot('upload-done');

  step('withdraw and reactivate the HD edition');
  await card.locator('tr[data-quality=hd] button:has-text("Withdraw")').click();
  await card.locator('tr[data-quality=hd] button:has-text("Reactivate")').waitFor({ timeout: 60_000 });
  check((await card.locator('tr[data-quality=hd] [data-testid=edition-status]').textContent()) === 'Withdrawn', 'HD withdrawn');
  await until('the withdrawal indexed', 30, async () => (await getJson(`/v1/films/${filmId}`)).editions.some((e) => e.quality === 'hd' && !e.active));
  await screenshot('withdrawn');
  await card.locator('tr[data-quality=hd] button:has-text("Reactivate")').click();
  await card.locator('tr[data-quality=hd] button:has-text("Withdraw")').waitFor({ timeout: 60_000 });
  await until('the reactivation indexed', 30, async () => (await getJson(`/v1/films/${filmId}`)).editions.some((e) => e.quality === 'hd' && e.active));

  step("the HD edition's lowest resale price: at most half its price");
  const floorForm = card.locator('tr[data-quality=hd] [data-testid=resale-floor-form]');
  check((await floorForm.locator('[data-testid=resale-floor-value]').textContent()) === 'None', 'no resale floor at first');
  await floorForm.locator('input').fill('3.76');
  await floorForm.locator('button:has-text("Set")').click();
  await floorForm.getByText("At most half the edition's price: €3.75.").waitFor();
  await floorForm.locator('input').fill('3.00');
  await floorForm.locator('button:has-text("Set")').click();
  await until('the floor shown', 60, async () => (await floorForm.locator('[data-testid=resale-floor-value]').textContent()) === '€3.00');
  await until('the floor indexed', 30, async () =>
    (await getJson(`/v1/films/${filmId}`)).editions.some((e) => e.quality === 'hd' && e.resale_floor_cents === 300),
  );
  await screenshot('resale-floor');

  step('the film in the catalogue');
  // In-app navigation from here on: the unlocked key lives in the tab's memory, a reload drops it.
  await page.click('a:has-text("Films")');
  await page.fill('#q', filmTitle);
  await page.click('form[role=search] button');
  const listed = page.locator('[data-testid=films] li', { hasText: filmTitle });
  await listed.waitFor();
  check((await listed.textContent()).includes('HD') && (await listed.textContent()).includes('€7.50'), 'listed with HD at €7.50');
  await screenshot('catalogue');

  step('a sale: the studio buys its own HD edition by card');
  await listed.locator('h2').click();
  await page.click('text=Buy HD');
  const el = page.locator('[data-testid=card-element]');
  await el.locator('input[placeholder=number]').fill('4242424242424242');
  await el.locator('input[placeholder=exp_month]').fill('12');
  await el.locator('input[placeholder=exp_year]').fill('34');
  await el.locator('input[placeholder=cvc]').fill('123');
  await el.locator('input[placeholder=postal_code]').fill('10115');
  await page.click('button:has-text("Pay ")');
  await page.locator('[data-testid=fulfilled]').waitFor({ timeout: 90_000 });

  step('the royalty statement shows the sale and the studio share');
  await page.click('a:has-text("Studio")');
  await page.click(`a[href="/studio/${studioId}"]`);
  await page.click('text=Royalty statement');
  await page.locator('[data-testid=statement-sales]').waitFor();
  await until('the sale in the statement', 30, async () => (await page.locator('[data-testid=statement-sales]').textContent()) === '1', async () => {
    await page.waitForTimeout(1000);
    // A refresh keeps the old statement on screen until its fetch starts: wait for that fetch's answer.
    await Promise.all([
      page.waitForResponse((r) => new URL(r.url()).pathname === `/v1/studios/${studioId}/statement`),
      page.click('button:has-text("Refresh")'),
    ]);
    await page.locator('[data-testid=statement-sales]').waitFor();
  });
  const href = await page.locator('[data-testid=csv]').getAttribute('href');
  const q = new URL(href, base).searchParams;
  const json = await getJson(`/v1/studios/${studioId}/statement?from=${encodeURIComponent(q.get('from'))}&to=${encodeURIComponent(q.get('to'))}`);
  check(json.sales === 1 && json.lines[0].film_id === filmId && json.lines[0].price_cents === 750, `the API's statement has the sale: ${JSON.stringify(json)}`);
  check(json.studio_cents > 0 && json.studio_cents + json.platform_cents === 750, `the split: ${json.studio_cents} + ${json.platform_cents}`);
  const eur = (c) => new Intl.NumberFormat('en-IE', { style: 'currency', currency: 'EUR' }).format(c / 100);
  check((await page.locator('[data-testid=statement-studio]').textContent()) === eur(json.studio_cents), 'studio share shown');
  check((await page.locator('[data-testid=statement-gross]').textContent()) === eur(750), 'gross shown');
  const lines = await page.locator('[data-testid=statement-lines] tbody tr').allTextContents();
  check(lines.length === 1 && lines[0].includes(`#${filmId}`) && lines[0].includes(eur(json.studio_cents)), `the sale line: ${lines}`);
  check((await page.locator('[data-testid=sales-chart] rect.bar-studio').count()) === 1, 'one bar of studio share in the chart');
  await screenshot('statement');

  step('the CSV download matches /v1/studios/{id}/statement');
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('[data-testid=csv]')]);
  const csv = parseCsv(readFileSync(await download.path(), 'utf8'));
  const total = csv.pop();
  check(total.block_number === 'TOTAL', 'a TOTAL row last');
  check(csv.length === json.lines.length, `CSV lines ${csv.length} = JSON lines ${json.lines.length}`);
  json.lines.forEach((l, i) => {
    const c = csv[i];
    for (const k of ['block_number', 'log_index', 'price_cents', 'seller_cents', 'studio_cents', 'platform_cents', 'film_id'])
      check(Number(c[k]) === l[k], `line ${i} ${k}: CSV ${c[k]} = JSON ${l[k]}`);
    for (const k of ['tx_hash', 'kind', 'licence_id']) check(c[k] === l[k], `line ${i} ${k}: CSV ${c[k]} = JSON ${l[k]}`);
    check(Date.parse(c.block_timestamp) === Date.parse(l.block_timestamp), `line ${i} time`);
  });
  for (const [k, j] of [['price_cents', 'gross_cents'], ['seller_cents', 'seller_cents'], ['studio_cents', 'studio_cents'], ['platform_cents', 'platform_cents']])
    check(Number(total[k]) === json[j], `TOTAL ${k}: CSV ${total[k]} = JSON ${json[j]}`);

  step('a period with no sale, and a reversed period');
  await page.fill('#from', '2020-01-01');
  await page.fill('#to', '2020-01-31');
  await page.click('button:has-text("Show")');
  await page.getByText('No sale in this period.').waitFor();
  await page.fill('#to', '2019-12-31');
  await page.click('button:has-text("Show")');
  await page.getByText('The last day comes before the first day.').waitFor();

  step('collect royalties: the card sale has not cleared yet, so there is nothing to collect');
  await page.click(`a:has-text("Studio #${studioId}")`);
  const collect = page.locator('[data-testid=collect]');
  expectedErrors.push({ path: `/v1/studios/${studioId}/withdrawals`, status: 409 });
  expectedConsole.push(/status of 409/);
  await collect.locator('button:has-text("Collect royalties")').click();
  const nothing = await collect.locator('[data-testid=collect-nothing]').textContent();
  check(nothing.includes('clearance period'), `nothing to collect, and why: ${nothing}`);
  await screenshot('collect-nothing');

  step('a title with an HTML/script payload is shown as text');
  await form.locator('input[name=title]').fill(payload);
  await form.locator('input[name=year]').fill('2026');
  await form.locator('input[name=price-hd]').fill('1');
  await form.locator('input[name=edition-4k]').uncheck();
  await form.locator('button[type=submit]').click();
  const evil = Number((await form.locator('[data-testid=film-registered]').textContent({ timeout: 60_000 })).match(/film #(\d+)/)?.[1]);
  await until('the film indexed', 30, async () => (await fetch(`${base}/v1/films/${evil}`)).ok);
  // In-app navigation (a page load would abort the studio page's list request still running).
  await page.click('a:has-text("Films")');
  await page.fill('#q', 'Reel ' + stamp);
  await page.click('form[role=search] button');
  const evilCard = page.locator('[data-testid=films] li h2', { hasText: 'onerror' });
  await evilCard.waitFor();
  check((await evilCard.textContent()) === payload, `the catalogue shows it as text: ${await evilCard.textContent()}`);
  await nothingInjected('the catalogue');
  await screenshot('payload-catalogue');
  await evilCard.click();
  const h1 = page.getByRole('heading', { level: 1 });
  await page.locator('h1', { hasText: 'Reel ' + stamp }).waitFor();
  check((await h1.textContent()) === payload, `the film page shows it as text: ${await h1.textContent()}`);
  await screenshot('payload-title');
  await nothingInjected('the film page');
  check(expectedFailures.length === 0, `expected failures not seen: ${expectedFailures}`);
});
