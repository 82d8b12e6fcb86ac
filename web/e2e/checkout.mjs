// The storefront in headless Chromium (Debian's, driven by playwright-core): create a wallet,
// sign in, buy the 4K edition by card (localstripe's fake Stripe.js), see the licence in the
// library; a declined card; a 3-D Secure card. Screenshots of every page at 390 and 1440 px.
// Any console error, page error, failed request or unexpected HTTP error fails the run.
//
// usage: node web/e2e/checkout.mjs <base-url> <screenshot-folder>
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { awaitLibraryLicence, check, fillCard as fillCardOn, open } from './harness.mjs';

const base = process.argv[2] ?? 'http://127.0.0.1:8080';
const out = process.argv[3] ?? 'e2e-output';
mkdirSync(out, { recursive: true });
// This run's screenshots only.
for (const f of readdirSync(out)) if (f.endsWith('.png')) rmSync(join(out, f));
console.log(`test-web: screenshots in ${out}`);

// The declined card's 402 and the console line Chromium prints for it are listed as expected
// by the scenario (the harness fails the run on any other).
const h = await open('checkout', out);
const { page, expectedErrors, expectedConsole, step } = h;
const screenshot = (name) => h.screenshot(name);
await h.run(async () => {
  // --- The page itself: served with the strict policy.
  const res = await page.goto(base + '/');
  const csp = res.headers()['content-security-policy'] ?? '';
  check(csp.includes("script-src 'self'") && !csp.includes('unsafe-inline'), `strict CSP on the page: ${csp}`);

  step('catalogue');
  await page.locator('[data-testid=films] li').first().waitFor();
  const title = (await page.locator('[data-testid=films] li h2').first().textContent()).trim();
  await screenshot('catalogue');
  // Search finds the film, and a nonsense query finds nothing.
  await page.fill('#q', title.slice(0, 4));
  // The unfiltered list stays on screen until the search's answer: wait for it.
  await Promise.all([
    page.waitForResponse((r) => new URL(r.url()).pathname === '/v1/films' && new URL(r.url()).searchParams.has('q')),
    page.click('form[role=search] button'),
  ]);
  await page.locator('[data-testid=films] li h2', { hasText: title }).waitFor();
  await page.fill('#q', 'zzzz-no-such-film');
  await page.click('form[role=search] button');
  await page.getByText('No film matches').waitFor();
  // Filters on the editions on sale (the demo film: HD 9.00 €, 4K 13.00 €), kept in the address.
  await page.getByRole('button', { name: 'Clear' }).click();
  await page.locator('[data-testid=films] li h2', { hasText: title }).waitFor();
  const listed = () => page.locator('[data-testid=films] li h2').allTextContents();
  await page.selectOption('select[name=quality]', 'sd');
  await page.locator('[data-testid=no-film]').waitFor();
  await page.selectOption('select[name=quality]', '4k');
  await page.locator('[data-testid=films] li h2', { hasText: title }).waitFor();
  await page.fill('input[name=max]', 'cheap');
  await page.getByRole('button', { name: 'Apply' }).click();
  check((await page.locator('.field-error').textContent()).includes('Enter a price in euros'), 'a price filter that is not a price');
  await page.fill('input[name=max]', '12');
  await page.getByRole('button', { name: 'Apply' }).click();
  await page.locator('[data-testid=no-film]').waitFor();
  check(page.url().endsWith('/?quality=4k&max=12'), `the filters in the address: ${page.url()}`);
  await page.selectOption('select[name=quality]', 'hd');
  await page.locator('[data-testid=films] li h2', { hasText: title }).waitFor();
  check((await listed()).includes(title), `HD up to 12 € lists ${title}`);
  await screenshot('catalogue-filtered');
  // Its fetch answered before leaving the page (a fetch cut short by the navigation is reported as a failed request).
  await Promise.all([page.waitForResponse((r) => new URL(r.url()).pathname === '/v1/films'), page.getByRole('button', { name: 'Clear' }).click()]);
  await page.locator('[data-testid=films] li').first().waitFor();

  step('pages before a wallet: an unknown address, the library');
  await page.goto(base + '/no-such-page');
  await page.getByRole('heading', { name: 'Page not found' }).waitFor();
  await screenshot('not-found');
  await page.click('a:has-text("Library")');
  await page.getByText('to see the films you own').waitFor();
  await screenshot('library-locked');

  step('film page');
  await page.click('a:has-text("Films")');
  await page.locator('[data-testid=films] li h2', { hasText: title }).click();
  await page.getByRole('heading', { name: title, level: 1 }).waitFor();
  await page.getByText('Buy 4K').waitFor();
  await screenshot('film');

  step('checkout asks for a wallet');
  await page.click('text=Buy 4K');
  await page.getByText('Unlock or create your wallet').waitFor();
  await screenshot('checkout-no-wallet');
  await page.getByText('Unlock or create your wallet').click();
  await page.getByText('No wallet in this browser yet').waitFor();
  await screenshot('wallet-none');

  step('import: the form, and a phrase that is too short');
  await page.getByRole('tab', { name: 'Import' }).click();
  await screenshot('wallet-import');
  await page.fill('textarea', 'legal vicious unfold');
  await page.fill('input[name=password]', 'correct horse battery staple');
  await page.fill('input[name=confirm]', 'correct horse battery staple');
  await page.click('text=Import wallet');
  await page.getByText('A recovery phrase has 12 or 24 words').waitFor();
  await screenshot('wallet-import-error');

  step('create a wallet');
  await page.getByRole('tab', { name: 'Create' }).click();
  await screenshot('wallet-create');
  await page.fill('input[name=password]', 'short');
  await page.fill('input[name=confirm]', 'short');
  await page.click('text=Next: your recovery phrase');
  await page.getByText('Choose a password of at least 10 characters.').waitFor();
  const password = 'correct horse battery staple';
  await page.fill('input[name=password]', password);
  await page.fill('input[name=confirm]', password);
  await page.click('text=Next: your recovery phrase');
  await page.locator('[data-testid=mnemonic] li').first().waitFor();
  const words = await page.locator('[data-testid=mnemonic] li').allTextContents();
  check(words.length === 12, `12 words shown (${words.length})`);
  await screenshot('wallet-words');
  await page.click('text=I have written them down');
  const inputs = page.locator('input[name^=word-]');
  const n = await inputs.count();
  check(n === 3, 'three words to confirm');
  // A wrong word first: refused with a clear message.
  await inputs.nth(0).fill('wrong');
  for (let i = 1; i < n; i++) {
    const k = Number((await inputs.nth(i).getAttribute('name')).slice(5));
    await inputs.nth(i).fill(words[k - 1]);
  }
  await page.click('text=Create wallet');
  await page.getByText('does not match').waitFor();
  const k0 = Number((await inputs.nth(0).getAttribute('name')).slice(5));
  await inputs.nth(0).fill(words[k0 - 1]);
  await page.click('text=Create wallet');
  // Unlocked, signed in (SIWE), back on the checkout page.
  await page.getByText('Pay ').waitFor({ timeout: 60_000 });
  check(page.url().endsWith('/buy/4k'), `back at the checkout: ${page.url()}`);

  const fillCard = (number) => fillCardOn(page, number);
  async function startCheckout(quality) {
    await page.click('a:has-text("Films")');
    await page.locator('[data-testid=films] li h2', { hasText: title }).click();
    await page.click(`text=Buy ${quality}`);
    await page.locator('[data-testid=card-element] input[placeholder=number]').waitFor();
  }

  step('the library, empty');
  await page.click('a:has-text("Library")');
  await page.locator('[data-testid=no-licence]').waitFor();
  await screenshot('library-empty');
  await startCheckout('4K');

  step('buy 4K with 4242 4242 4242 4242');
  await page.locator('[data-testid=card-element] input[placeholder=number]').waitFor();
  await fillCard('4242424242424242');
  await screenshot('checkout');
  await page.click('button:has-text("Pay ")');
  await page.locator('[data-testid=fulfilled]').waitFor({ timeout: 90_000 });
  const licenceText = await page.locator('[data-testid=fulfilled]').textContent();
  await screenshot('checkout-fulfilled');

  step('the licence in the library');
  await page.click('text=Go to your library');
  await awaitLibraryLicence(page);
  const lib = await page.locator('[data-testid=licences]').textContent();
  check(lib.includes('4K') && lib.includes(title), `library lists the 4K licence of ${title}: ${lib}`);
  const id = licenceText.match(/#(\d+)/)?.[1];
  check(id && lib.includes(id), `library shows licence #${id}`);
  await screenshot('library');
  // The long id is cut on screen; "Copy" copies it whole and "Show all" shows it whole.
  await page.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin: base });
  const card = page.locator('[data-testid=licences] li').first();
  await card.getByRole('button', { name: 'Copy' }).first().click();
  await card.getByRole('button', { name: 'Copied' }).waitFor();
  const copied = await page.evaluate(() => navigator.clipboard.readText());
  check(copied === id, `Copy copies the licence id: ${copied}`);
  await card.getByRole('button', { name: 'Show all' }).first().click();
  check(await card.locator('code.wrap', { hasText: id }).isVisible(), 'Show all shows the whole licence id');
  await screenshot('library-id-shown');

  step('a declined card (4000 0000 0000 0341)');
  await startCheckout('HD');
  await fillCard('4000000000000341');
  expectedErrors.push({ path: '/payment-method', status: 402 });
  expectedConsole.push(/status of 402/);
  await page.click('button:has-text("Pay ")');
  await page.locator('[data-testid=declined]').waitFor();
  const declined = await page.locator('[data-testid=declined]').textContent();
  check(/declined/i.test(declined), `decline explained: ${declined}`);
  await screenshot('checkout-declined');

  step('a 3-D Secure card (4000 0025 0000 3155)');
  await startCheckout('HD');
  await fillCard('4000002500003155');
  await page.click('button:has-text("Pay ")');
  await page.getByText('Complete authentication').waitFor();
  await screenshot('checkout-3ds');
  await page.click('text=Complete authentication');
  await page.locator('[data-testid=fulfilled]').waitFor({ timeout: 90_000 });

  step('the wallet, signed in');
  await page.click('[data-testid=wallet-link]');
  await page.getByText('Signed in until').waitFor();
  await screenshot('wallet-signed-in');

  step('lock, then unlock with a wrong password');
  await page.click('button:has-text("Lock")');
  await page.locator('select').waitFor();
  await screenshot('wallet-unlock');
  await page.fill('input[type=password]', 'not the password');
  await page.click('button[type=submit]:has-text("Unlock")');
  await page.getByText('Wrong password for this wallet.').waitFor({ timeout: 60_000 });
  await screenshot('wallet-unlock-wrong');
});
