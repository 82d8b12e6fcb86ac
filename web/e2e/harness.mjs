/* global document */
// What every browser scenario shares: headless Chromium (Debian's, driven by playwright-core),
// a page whose console errors, page errors, failed requests and unexpected HTTP errors are
// collected as problems (a scenario lists the ones it provokes), screenshots at 390 and 1440 px
// that must not scroll sideways, and the pass/fail ending.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { privateKeyToAccount } from 'viem/accounts';

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
  /** Regexes of problems a scenario provokes any number of times (its offline part): matched
   *  against the console line, the failed request's URL, or the HTTP error's URL. */
  const tolerated = [];
  const tolerates = (text) => tolerated.some((re) => re.test(text));
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
    if (m.type() === 'error' && !tolerates(m.text()) && !consume(expectedConsole, (re) => re.test(m.text())))
      problems.push(`console error: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('requestfailed', (r) => {
    if (!tolerates(r.url()) && !consume(expectedFailures, (u) => r.url().includes(u)))
      problems.push(`request failed: ${r.method()} ${r.url()} ${r.failure()?.errorText}`);
  });
  page.on('response', (r) => {
    if (r.status() >= 400 && !tolerates(r.url()) && !consume(expectedErrors, (e) => r.url().includes(e.path) && r.status() === e.status))
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
    tolerated,
    context,
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
  const listed = page.locator('[data-testid=licences] li');
  for (let i = 0; ; i++) {
    await page.locator('[data-testid=licences] li, [data-testid=no-licence]').first().waitFor();
    if (await listed.count()) return;
    check(i < 30, 'licence indexed within 30 s');
    await page.waitForTimeout(1000);
    // A reload still in flight may have listed it meanwhile (and taken the Refresh button away).
    if (await listed.count()) return;
    // A refresh keeps the old list on screen until its fetch starts: wait for that fetch's answer.
    await Promise.all([
      page.waitForResponse((r) => new URL(r.url()).pathname === '/v1/licences'),
      page.click('button:has-text("Refresh")'),
    ]);
  }
}

// --- Films for the playback scenarios (web/e2e/playback.mjs, web/e2e/bench_playback.mjs).

/**
 * Writes a real film with ffmpeg: H.264 (a moving test pattern with its frame counter and a
 * burned-in running timecode) and AAC (a tone), MP4 with the index first (`faststart`), a key
 * frame every second so a seek lands quickly. Returns its path.
 */
export function makeFilm(path, { seconds = 16, width = 1280, height = 720, bitrate = '6M' } = {}) {
  const font = '/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf';
  const draw = existsSync(font)
    ? `,drawtext=fontfile=${font}:text='%{pts\\:hms}':x=20:y=20:fontsize=${Math.round(height / 12)}:fontcolor=white:box=1:boxcolor=black@0.6`
    : '';
  execFileSync(
    'ffmpeg',
    ['-hide_banner', '-loglevel', 'error', '-y',
      '-f', 'lavfi', '-i', `testsrc2=size=${width}x${height}:rate=25:duration=${seconds}${draw}`,
      '-f', 'lavfi', '-i', `sine=frequency=440:sample_rate=48000:duration=${seconds}`,
      '-c:v', 'libx264', '-preset', 'veryfast', '-pix_fmt', 'yuv420p', '-b:v', bitrate, '-maxrate', bitrate, '-bufsize', bitrate,
      '-g', '25', '-keyint_min', '25', '-sc_threshold', '0',
      '-c:a', 'aac', '-b:a', '128k', '-movflags', '+faststart', '-fflags', '+bitexact', path],
    { stdio: 'inherit' },
  );
  return path;
}

/** A bearer token for a fresh key (Sign-In with Ethereum against the API at `base`). */
export async function signInKey(base, privateKey) {
  const account = privateKeyToAccount(privateKey);
  const post = async (path, body, token) => {
    const r = await fetch(base + path, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify(body),
    });
    const json = await r.json().catch(() => null);
    if (!r.ok) throw new Error(`POST ${path}: ${r.status} ${JSON.stringify(json)}`);
    return json;
  };
  const nonce = await post('/v1/auth/nonce', { address: account.address });
  const signature = await account.signMessage({ message: nonce.message });
  const { token } = await post('/v1/auth/login', { message: nonce.message, signature });
  return { account, token, post: (path, body) => post(path, body, token) };
}

/**
 * The devstack's platform admin: anvil's account 0 (mnemonic "test test … junk"), a public,
 * well-known development key — the deployer, operator and holder of the market's
 * DEFAULT_ADMIN_ROLE (crates/devstack/src/chain.rs: ANVIL_KEYS[OPERATOR]).
 */
export const OPERATOR_KEY = '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80';

/**
 * Approves studio application `applicationId` as the devstack's platform admin (the studio is
 * registered on chain, the applicant its admin). Returns the new studio's id.
 */
export async function approveStudio(base, applicationId, reason = 'Approved by the browser scenarios') {
  const admin = await signInKey(base, OPERATOR_KEY);
  const app = await admin.post(`/v1/admin/studio-applications/${applicationId}/approve`, { reason });
  if (app?.state !== 'approved' || !Number.isInteger(app?.studio_id))
    throw new Error(`application ${applicationId} not approved: ${JSON.stringify(app)}`);
  return app.studio_id;
}

/**
 * Publishes `file` as the HD edition of a new film of a new studio (a fresh studio key, through
 * the API as the studio dashboard does: its application, 202, approved by the platform admin)
 * and waits until the catalogue lists it. Returns the film id.
 */
export async function publishFilm(base, file, title) {
  const studio = await signInKey(base, `0x${randomBytes(32).toString('hex')}`);
  const application = await studio.post('/v1/studios', { name: `Playback ${title}`, royalty_address: studio.account.address });
  if (application?.state !== 'pending' || !Number.isInteger(application?.application_id))
    throw new Error(`POST /v1/studios: not a pending application (202): ${JSON.stringify(application)}`);
  const studio_id = await approveStudio(base, application.application_id);
  const { film_id } = await studio.post(`/v1/studios/${studio_id}/films`, { title, year: 2026, editions: [{ quality: 'hd', price_cents: 500 }] });
  const body = readFileSync(file);
  const r = await fetch(`${base}/v1/editions/${film_id}-hd/master`, {
    method: 'PUT',
    headers: { 'content-type': 'application/octet-stream', authorization: `Bearer ${studio.token}` },
    body,
  });
  if (!r.ok) throw new Error(`master upload: ${r.status} ${await r.text()}`);
  for (let i = 0; ; i++) {
    const f = await fetch(`${base}/v1/films/${film_id}`).then((x) => (x.ok ? x.json() : null));
    if (f?.editions?.some((e) => e.quality === 'hd' && e.active)) return film_id;
    if (i > 60) throw new Error(`film ${film_id} not in the catalogue within 60 s`);
    await new Promise((res) => setTimeout(res, 1000));
  }
}

/**
 * A local HTTP proxy in front of the API (`target`), so a scenario can make the API unreachable
 * for the page and its service worker alike (`stop`), and slow the film downloads (`slow` ms
 * before each answer under /v1/content/). `ranges` lists the Range headers of those requests.
 */
export async function startProxy(target) {
  const t = new URL(target);
  const sockets = new Set();
  const state = { slow: 0, ranges: [] };
  const server = http.createServer((req, res) => {
    const go = () => {
      const up = http.request(
        { host: t.hostname, port: t.port, method: req.method, path: req.url, headers: { ...req.headers, host: t.host } },
        (r) => {
          res.writeHead(r.statusCode ?? 502, r.headers);
          r.pipe(res);
        },
      );
      up.on('error', () => res.destroy());
      req.pipe(up);
    };
    if (req.url.startsWith('/v1/content/')) {
      state.ranges.push(req.headers.range ?? '');
      if (state.slow) return void setTimeout(go, state.slow);
    }
    go();
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise((res) => server.listen(0, '127.0.0.1', res));
  const port = server.address().port;
  return {
    url: `http://127.0.0.1:${port}`,
    state,
    /** Closes the port and every open connection: the API is unreachable. */
    stop: () => {
      const closed = new Promise((res) => server.close(res));
      for (const s of sockets) s.destroy();
      return closed;
    },
    /** Listens again on the same port. */
    start: () => new Promise((res) => server.listen(port, '127.0.0.1', res)),
  };
}

/** Polls `f` (async) every 300 ms until it returns a value, for at most `ms`. */
export async function until(what, ms, f) {
  for (const end = Date.now() + ms; Date.now() < end; await new Promise((r) => setTimeout(r, 300))) {
    const v = await f();
    if (v) return v;
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** `GET base + path` as JSON; anything but 2xx throws. */
export function jsonGetter(base) {
  return async (path) => {
    const res = await fetch(base + path);
    if (!res.ok) throw new Error(`GET ${path}: ${res.status}`);
    return res.json();
  };
}
