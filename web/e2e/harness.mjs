/* global document */
// What every browser scenario shares: headless Chromium (Debian's, driven by playwright-core),
// a page whose console errors, page errors, failed requests and unexpected HTTP errors are
// collected as problems (a scenario lists the ones it provokes), screenshots at 390 and 1440 px
// that must not scroll sideways, and the pass/fail ending.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

/** Debian's headless Chromium (or $CHROMIUM) as every browser run starts it. */
export function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/**
 * Opens a browser and a page. `name` prefixes the screenshots and log lines; `out` is the
 * screenshot folder.
 */
export async function open(name, out, { acceptDownloads = false } = {}) {
  mkdirSync(out, { recursive: true });
  const problems = [];
  /** Responses a scenario provokes: `{ path, status }`, each consumed when seen. */
  const expectedErrors = [];
  /** Console error lines a scenario provokes (regexes), each consumed when seen. */
  const expectedConsole = [];
  /** Request failures a scenario provokes (URL substrings), each consumed when seen. */
  const expectedFailures = [];
  const consume = (list, match) => {
    const i = list.findIndex(match);
    if (i >= 0) list.splice(i, 1);
    return i >= 0;
  };
  const browser = await launch();
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 }, acceptDownloads });
  const page = await context.newPage();
  page.setDefaultTimeout(20_000);
  page.on('console', (m) => {
    if (m.type() === 'error' && !consume(expectedConsole, (re) => re.test(m.text())))
      problems.push(`console error: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('requestfailed', (r) => {
    if (!consume(expectedFailures, (u) => r.url().includes(u)))
      problems.push(`request failed: ${r.method()} ${r.url()} ${r.failure()?.errorText}`);
  });
  page.on('response', (r) => {
    if (r.status() >= 400 && !consume(expectedErrors, (e) => r.url().includes(e.path) && r.status() === e.status))
      problems.push(`HTTP ${r.status()}: ${r.request().method()} ${r.url()}`);
  });

  let shots = 0;
  const started = Date.now();
  return {
    browser,
    page,
    problems,
    expectedErrors,
    expectedConsole,
    expectedFailures,
    step: (s) => console.log(`test-web: ${s}`),
    /** Full-page screenshots at 1440 and 390 px; a page wider than the window is a problem. */
    async screenshot(what) {
      for (const width of [1440, 390]) {
        await page.setViewportSize({ width, height: width === 390 ? 844 : 900 });
        const wide = await page.evaluate(() => document.documentElement.scrollWidth);
        if (wide > width) problems.push(`${what} at ${width} px is ${wide} px wide (scrolls sideways)`);
        await page.screenshot({ path: join(out, `${name}-${String(++shots).padStart(2, '0')}-${what}-${width}.png`), fullPage: true });
      }
      await page.setViewportSize({ width: 1440, height: 900 });
    },
    /** Runs the scenario, then exits 1 with every problem if it threw or any was collected. */
    async run(scenario) {
      try {
        await scenario();
        if (expectedErrors.length) problems.push(`expected responses not seen: ${JSON.stringify(expectedErrors)}`);
        if (expectedConsole.length) problems.push(`expected console lines not seen: ${expectedConsole}`);
        if (expectedFailures.length) problems.push(`expected request failures not seen: ${expectedFailures}`);
      } catch (e) {
        problems.unshift(String(e?.stack ?? e));
        await page.screenshot({ path: join(out, `${name}-failure.png`), fullPage: true }).catch(() => {});
      } finally {
        await browser.close();
      }
      console.log(`test-web: ${name}: ${((Date.now() - started) / 1000).toFixed(1)} s, ${shots} screenshots in ${out}`);
      if (problems.length) {
        console.error(`test-web: ${name} FAILED\n  ` + problems.join('\n  '));
        process.exit(1);
      }
      console.log(`test-web: ${name} passed`);
    },
  };
}

/** Throws `what` unless `cond`. */
export function check(cond, what) {
  if (!cond) throw new Error(`check failed: ${what}`);
}

/** Fills localstripe's fake Stripe.js card element with `number` (any future expiry). */
export async function fillCard(page, number) {
  const el = page.locator('[data-testid=card-element]');
  await el.locator('input[placeholder=number]').waitFor();
  await el.locator('input[placeholder=number]').fill(number);
  await el.locator('input[placeholder=exp_month]').fill('12');
  await el.locator('input[placeholder=exp_year]').fill('34');
  await el.locator('input[placeholder=cvc]').fill('123');
  await el.locator('input[placeholder=postal_code]').fill('10115');
}

/** On the library page: waits (refreshing once a second, up to 30 s) until a licence is listed.
 *  The library reads the indexer's mirror, so a new licence appears once its block is indexed. */
export async function awaitLibraryLicence(page) {
  for (let i = 0; ; i++) {
    await page.locator('[data-testid=licences] li, [data-testid=no-licence]').first().waitFor();
    if (await page.locator('[data-testid=licences] li').count()) return;
    check(i < 30, 'licence indexed within 30 s');
    await page.waitForTimeout(1000);
    await page.click('button:has-text("Refresh")');
  }
}
