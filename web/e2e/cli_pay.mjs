// `tangible buy --card` pays on the storefront's payment page: the CLI creates the purchase for
// its wallet and prints the page's address (`/pay/<purchase>#<client secret>`), the buyer pays
// there in the browser (localstripe's fake Stripe.js), and the CLI sees the licence minted.
// Also: the address without its secret is refused clearly, and a paid link says it is paid.
//
// usage: node web/e2e/cli_pay.mjs <base-url> <screenshot-folder> <tangible-binary>
/* global location */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { check, fillCard, open } from './harness.mjs';

const [base, out, bin] = process.argv.slice(2);
if (!base || !out || !bin) throw new Error('usage: cli_pay.mjs <base-url> <screenshot-folder> <tangible-binary>');
// anvil's account 5 (well known, local only): a buyer no other scenario uses.
const BUYER_KEY = '0x8b3a350cf5c34c9194ca85829a2df0ec3153be0318b5e2d3348e872092edffba';
const BUYER = '0x9965507D1a55bcC2695C58ba16FB37d819B0A4dc';

const h = await open('cli-pay', out);
const { page, step } = h;
const home = mkdtempSync(join(tmpdir(), 'tangible-cli-pay-'));
const env = { ...process.env, TANGIBLE_HOME: home, TANGIBLE_API_URL: base, TANGIBLE_PASSWORD: 'cli-pay-password' };
delete env.TANGIBLE_STRIPE_KEY; // --card never needs a Stripe key

/** Polls `f` every 100 ms until it returns a value, for at most `ms`. */
async function until(what, ms, f) {
  for (const end = Date.now() + ms; Date.now() < end; await new Promise((r) => setTimeout(r, 100))) {
    const v = f();
    if (v) return v;
  }
  throw new Error(`timed out waiting for ${what}`);
}

await h.run(async () => {
  execFileSync(bin, ['wallet', 'import', '--private-key'], { env, input: `${BUYER_KEY}\n` });
  const shown = JSON.parse(execFileSync(bin, ['--json', 'wallet', 'show'], { env }).toString());
  check(shown.address.toLowerCase() === BUYER.toLowerCase(), `the CLI's wallet is account 5: ${shown.address}`);

  step('tangible buy 1 --quality hd --card --no-open');
  const cli = spawn(bin, ['--json', 'buy', '1', '--quality', 'hd', '--card', '--no-open', '--timeout', '180'], { env });
  let stdout = '';
  let stderr = '';
  cli.stdout.on('data', (d) => (stdout += d));
  cli.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise((resolve) => cli.on('exit', resolve));
  const url = await until('the payment page address on stderr', 30_000, () => stderr.match(/https?:\/\/\S+\/pay\/[0-9a-f-]{36}#\S+/)?.[0]);
  check(url.startsWith(`${base}/pay/`), `the page is on the API's site: ${url}`);
  const purchaseId = url.match(/\/pay\/([0-9a-f-]{36})#/)[1];
  check(!url.split('#')[0].includes('secret'), `the client secret is only in the fragment: ${url}`);

  step('the address without its secret');
  await page.goto(url.split('#')[0]);
  await page.getByText('This payment link is incomplete').waitFor();
  await h.screenshot('link-incomplete');

  step('paying on the page with 4242 4242 4242 4242');
  await page.goto('about:blank');
  await page.goto(url);
  // The whole recipient is shown (a crafted link would name someone else's wallet), and the
  // secret leaves the address bar and the history, yet a reload still pays.
  await page.locator('[data-testid=recipient]').waitFor();
  const recipient = await page.locator('[data-testid=recipient]').textContent();
  check(recipient.toLowerCase() === BUYER.toLowerCase(), `the page names the CLI's whole address: ${recipient}`);
  check((await page.evaluate(() => location.href)) === url.split('#')[0], `the secret is gone from the address: ${page.url()}`);
  await page.reload();
  await fillCard(page, '4242424242424242');
  check((await page.locator('[data-testid=total]').textContent()).includes('9.00'), 'the page shows the HD price, 9.00 €');
  await h.screenshot('pay');
  await page.click('button:has-text("Pay ")');
  await page.locator('[data-testid=fulfilled]').waitFor({ timeout: 90_000 });
  await h.screenshot('pay-fulfilled');

  step('the CLI sees the licence');
  const timeout = new Promise((resolve) => setTimeout(() => resolve('timeout'), 60_000));
  const code = await Promise.race([exited, timeout]);
  if (code === 'timeout') cli.kill();
  check(code === 0, `tangible buy --card exited ${code}: ${stderr}`);
  const bought = JSON.parse(stdout);
  const view = await (await fetch(`${base}/v1/purchases/${purchaseId}`)).json();
  check(view.state === 'fulfilled' && view.licence_id === bought.licence_id, `CLI ${stdout} vs API ${JSON.stringify(view)}`);
  check(bought.paid_with === 'card' && bought.purchase_id === purchaseId, `the CLI reports this card purchase: ${stdout}`);
  check(view.buyer_address.toLowerCase() === BUYER.toLowerCase(), `minted to the CLI's wallet: ${view.buyer_address}`);

  step('the paid link again');
  await page.goto('about:blank');
  await page.goto(url);
  await page.getByText('This purchase is already paid for.').waitFor();
  await h.screenshot('link-paid');
});
rmSync(home, { recursive: true, force: true });
