// The film page's resale market and a wallet extension, in headless Chromium: a seller lists
// three HD licences with the `tangible` CLI (bought in stablecoin, so not on hold), another CLI
// user buys one of them in stablecoin; the film page shows the open offers (cheapest first) and
// the HD price history (chart and table), and the 4K edition's empty states. A buyer whose
// wallet is an extension (EIP-6963) signs in with it (EIP-4361 through `personal_sign`), buys the
// cheapest offer by card through the hosted checkout, finds the licence in the library, and the
// film page then shows the sale in the history and the offer gone. Last, the studio registers an
// SD edition on chain itself, without uploading its master: the catalogue and the film page show
// it, not for sale ("Not available"), nor a licence of it offered for resale, and their checkouts say why.
//
// A real wallet extension cannot run in this headless browser: the extension is a small script
// added to every page before the app (the page's init script), announcing an EIP-1193 provider
// through `eip6963:announceProvider`; its `request` is answered here, in Node, by viem's
// `privateKeyToAccount` with anvil's account 7 (eth_requestAccounts, eth_accounts, eth_chainId,
// personal_sign; anything else is refused with EIP-1193's 4200).
//
// usage: node web/e2e/storefront.mjs <base-url> <screenshot-folder> <tangible-binary> <rpc-url>
/* global window */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPublicClient, createWalletClient, http, keccak256, parseAbi, toHex } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { awaitLibraryLicence, check, fillCard, jsonGetter, open, until } from './harness.mjs';

const [base, out, bin, rpc] = process.argv.slice(2);
if (!base || !out || !bin || !rpc) throw new Error('usage: storefront.mjs <base-url> <screenshot-folder> <tangible-binary> <rpc-url>');

// anvil's well-known development keys (local chain only), accounts no other scenario uses.
const SELLER_KEY = '0x92db14e403b83dfe3df233f83dfa3a0d7096f21ca9b0d6d6b8d88b2b4ec1564e'; // #6
const WALLET_KEY = '0x4bbbf85ce3377467afe5d46f804f221813b2bb87f24d81f60f1fcdbf7cbf4356'; // #7, the extension's
const CLI_BUYER_KEY = '0xdbda1821b80551c9d65939329250298aa3472ba22feea921c0cf5d620ea67b97'; // #8
const FILM = 1; // the demo film, with HD (9.00 €) and 4K (13.00 €) editions
// anvil's account 1: the demo studio's admin (crates/devstack: STUDIO).
const STUDIO_ADMIN_KEY = '0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d';

const homes = [];
/** A `tangible` user with its own home and the key `key` imported. */
function cliUser(key) {
  const home = mkdtempSync(join(tmpdir(), 'tangible-storefront-'));
  homes.push(home);
  const env = { ...process.env, TANGIBLE_HOME: home, TANGIBLE_API_URL: base, TANGIBLE_RPC_URL: rpc, TANGIBLE_PASSWORD: 'storefront-e2e' };
  delete env.TANGIBLE_STRIPE_KEY;
  const json = (args) => JSON.parse(execFileSync(bin, ['--json', ...args], { env }).toString());
  execFileSync(bin, ['wallet', 'import', '--private-key'], { env, input: `${key}\n` });
  return { json, address: privateKeyToAccount(key).address };
}

const getJson = jsonGetter(base);
const offerStatus = async (id) => (await getJson(`/v1/offers?film_id=${FILM}&status=all&limit=100`)).items.find((o) => o.offer_id === id)?.status;

const h = await open('storefront', out);
const { page, step } = h;

await h.run(async () => {
  step('setup with the CLI: a seller lists three HD licences, another user buys one in stablecoin');
  const seller = cliUser(SELLER_KEY);
  const offers = {};
  for (const price of ['9.00', '7.50', '8.00']) {
    const licence = seller.json(['buy', String(FILM), '--quality', 'hd', '--crypto']).licence_id;
    offers[price] = seller.json(['resell', licence, '--price', price]).offer_id;
  }
  const cliBuyer = cliUser(CLI_BUYER_KEY);
  cliBuyer.json(['buy-offer', offers['9.00'], '--crypto']);
  // The film page reads the indexer's mirror.
  await until('the offers in the mirror', 30_000, async () =>
    (await offerStatus(offers['7.50'])) === 'active' &&
    (await offerStatus(offers['8.00'])) === 'active' &&
    (await offerStatus(offers['9.00'])) === 'filled');
  await until('the stablecoin resale in /v1/sales', 30_000, async () =>
    (await getJson(`/v1/sales?film_id=${FILM}&kind=resale&limit=100`)).items.some((s) => s.offer_id === offers['9.00']));
  const film = await getJson(`/v1/films/${FILM}`);

  // --- The wallet extension (see the top of this file).
  const wallet = privateKeyToAccount(WALLET_KEY);
  const config = await getJson('/v1/config');
  const calls = [];
  await page.exposeFunction('__tangibleTestWallet', async (method, params) => {
    calls.push(method);
    switch (method) {
      case 'eth_requestAccounts':
      case 'eth_accounts':
        return { result: [wallet.address] };
      case 'eth_chainId':
        return { result: '0x' + config.chain_id.toString(16) };
      case 'personal_sign': {
        const [message, address] = params;
        if (String(address).toLowerCase() !== wallet.address.toLowerCase())
          return { error: { code: 4100, message: `not this wallet's account: ${address}` } };
        return { result: await wallet.signMessage({ message: { raw: message } }) };
      }
      default:
        return { error: { code: 4200, message: `unsupported method ${method}` } };
    }
  });
  await page.addInitScript(() => {
    const icon =
      'data:image/svg+xml;base64,' +
      btoa('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 28 28"><rect width="28" height="28" rx="6" fill="#7c3aed"/><circle cx="14" cy="14" r="6" fill="#fff"/></svg>');
    const info = { uuid: '6f1c1f44-7a43-4c1e-9d2a-0e5b3c1a2b7d', name: 'Test Wallet', icon, rdns: 'dev.tangible.test-wallet' };
    const provider = {
      async request({ method, params }) {
        const r = await window.__tangibleTestWallet(method, params ?? []);
        if (r.error) throw Object.assign(new Error(r.error.message), { code: r.error.code });
        return r.result;
      },
      on() {},
      removeListener() {},
    };
    const announce = () => window.dispatchEvent(new CustomEvent('eip6963:announceProvider', { detail: Object.freeze({ info, provider }) }));
    window.addEventListener('eip6963:requestProvider', announce);
    announce();
  });

  step('the film page: HD offers cheapest first, the HD price history, 4K empty');
  await page.goto(`${base}/films/${FILM}`);
  await page.getByRole('heading', { name: film.title, level: 1 }).waitFor();
  const hd = page.locator('[data-testid=market-hd]');
  const k4 = page.locator('[data-testid=market-4k]');
  await hd.locator('[data-testid=offers]').waitFor();
  // On a fresh stack these are the film's only offers and resale; the checks also hold on a
  // stack where this scenario ran before (for iterating on it).
  const offerRows = () =>
    hd.locator('[data-testid=offers] tbody tr').evaluateAll((trs) =>
      trs.map((tr) => ({ id: tr.getAttribute('data-offer'), price: Number(tr.querySelector('td')?.textContent?.replace(/[^0-9.]/g, '')) })),
    );
  const rows = await offerRows();
  const at = (price) => rows.findIndex((r) => r.id === offers[price]);
  check(at('7.50') >= 0 && at('8.00') > at('7.50') && at('9.00') < 0, `HD offers 7.50 then 8.00, not the sold 9.00: ${JSON.stringify(rows)}`);
  check(rows.every((r, i) => i === 0 || rows[i - 1].price <= r.price), `cheapest first: ${JSON.stringify(rows)}`);
  const row750 = await hd.locator(`tr[data-offer="${offers['7.50']}"]`).textContent();
  check(row750.includes('€7.50') && row750.includes(seller.address.slice(0, 6).toLowerCase()), `the offer's price and seller: ${row750}`);
  await hd.locator('[data-testid=history]').waitFor();
  const resalesBefore = await hd.locator('[data-testid=price-chart] circle').count();
  check(resalesBefore >= 1, 'the stablecoin resale on the HD chart');
  const hdHistory = await hd.locator('[data-testid=history-table] tbody').textContent();
  check(hdHistory.includes('9.00'), `the 9.00 resale in the HD history: ${hdHistory}`);
  check((await k4.locator('[data-testid=no-offers]').textContent()).includes('No resale offer for the 4K edition yet'), '4K: no offer');
  check((await k4.locator('[data-testid=no-history]').textContent()).includes('No resale of the 4K edition yet'), '4K: no history');
  await h.screenshot('film-market');

  step('buy the 7.50 offer: the checkout asks for a wallet');
  await hd.locator(`tr[data-offer="${offers['7.50']}"] a`).click();
  await page.getByText('Unlock or create your wallet').waitFor();
  check((await page.locator('.total').textContent()).includes('7.50'), 'the offer checkout shows 7.50 €');
  await h.screenshot('offer-checkout-no-wallet');
  await page.getByText('Unlock or create your wallet').click();

  step('the wallet page lists the extension; connect it and sign in');
  await page.getByRole('tab', { name: /Browser wallet/ }).click();
  const listed = page.locator('[data-testid=injected-wallets] li');
  await listed.first().waitFor();
  check((await listed.count()) === 1 && (await listed.first().textContent()).includes('Test Wallet'), 'one extension listed');
  await h.screenshot('wallet-browser');
  await page.getByRole('button', { name: 'Connect Test Wallet' }).click();
  // Signed in (EIP-4361 signed by the extension), back at the offer's checkout.
  await page.locator('[data-testid=card-element] input[placeholder=number]').waitFor({ timeout: 60_000 });
  check(page.url().endsWith(`/films/${FILM}/offers/${offers['7.50']}`), `back at the offer checkout: ${page.url()}`);
  check(calls.includes('eth_requestAccounts') && calls.includes('eth_chainId') && calls.includes('personal_sign'), `the extension was asked: ${calls}`);
  check((await page.locator('[data-testid=wallet-link]').textContent()).includes('●'), 'the header shows the wallet signed in');
  check((await page.locator('[data-testid=seller]').getAttribute('title')).toLowerCase() === seller.address.toLowerCase(), 'the seller is named');

  step('pay by card (4242 4242 4242 4242)');
  await fillCard(page, '4242424242424242');
  await h.screenshot('offer-checkout');
  await page.click('button:has-text("Pay ")');
  await page.locator('[data-testid=fulfilled]').waitFor({ timeout: 90_000 });
  const licenceId = (await page.locator('[data-testid=fulfilled]').textContent()).match(/#(\d+)/)?.[1];
  check(licenceId, 'the new licence number is shown');
  await h.screenshot('offer-fulfilled');

  step('the licence in the library');
  await page.click('text=Go to your library');
  await awaitLibraryLicence(page);
  const lib = await page.locator('[data-testid=licences]').textContent();
  check(lib.includes(licenceId) && lib.includes('HD') && lib.includes(film.title), `the library lists the HD licence #${licenceId}: ${lib}`);
  await h.screenshot('library-resale');

  // The session is in this tab's memory: the wallet page is visited before any page load.
  step('the wallet page: signed in through the extension; disconnect');
  await page.click('[data-testid=wallet-link]');
  await page.getByText('Signed in until').waitFor();
  check((await page.locator('[data-testid=injected-source]').textContent()).includes('Test Wallet'), 'the extension is named');
  check((await page.locator('[data-testid=address] code').getAttribute('title')) === wallet.address, 'the extension account');
  await h.screenshot('wallet-injected');
  await page.getByRole('button', { name: 'Disconnect' }).click();
  await page.getByRole('tab', { name: /Browser wallet/ }).waitFor();
  check((await page.locator('[data-testid=wallet-link]').textContent()).trim() === 'Wallet', 'no wallet after disconnecting');

  step('the film page after the sale: two HD resales, one offer left');
  for (let i = 0; ; i++) {
    await page.goto(`${base}/films/${FILM}`);
    await hd.locator('[data-testid=history], [data-testid=no-history]').first().waitFor();
    if ((await hd.locator('[data-testid=price-chart] circle').count()) === resalesBefore + 1) break;
    check(i < 30, 'the card resale in the price history within 30 s');
    await page.waitForTimeout(1000);
  }
  const after = (await offerRows()).map((r) => r.id);
  check(!after.includes(offers['7.50']) && after.includes(offers['8.00']), `the 7.50 offer is gone, the 8.00 one left: ${after}`);
  const table = await hd.locator('[data-testid=history-table] tbody tr').allTextContents();
  check(table[0]?.includes('€7.50') && table[1]?.includes('€9.00'), `history newest first: ${table}`);
  const summary = await hd.locator('[data-testid=history] p').first().textContent();
  check(/Last resale\s*€7\.50/.test(summary) && summary.includes('lowest €7.50'), `summary: ${summary}`);
  await h.screenshot('film-market-after');

  step('the sold offer is closed');
  await page.goto(`${base}/films/${FILM}/offers/${offers['7.50']}`);
  await page.locator('[data-testid=offer-closed]').waitFor();
  await h.screenshot('offer-closed');

  step("the seller's library: the card resale's 6.01 € share is pending until the card payment clears");
  await page.goto(`${base}/wallet?next=/library`);
  await page.getByRole('tab', { name: 'Import' }).click();
  await page.fill('textarea', SELLER_KEY);
  await page.fill('input[name=password]', 'seller password 123');
  await page.fill('input[name=confirm]', 'seller password 123');
  await page.click('text=Import wallet');
  await page.locator('[data-testid=money]').waitFor({ timeout: 60_000 });
  const pending = await until('the pending share in the money panel', 30_000, async () => {
    const t = (await page.locator('[data-testid=money]').textContent()) ?? '';
    if (t.includes('€6.01')) return t;
    await page.reload();
    await page.locator('[data-testid=money]').waitFor();
    return null;
  });
  check((await page.locator('[data-testid=pending]').textContent()).trim() === '€6.01', `pending €6.01: ${pending}`);
  check(pending.includes('can be disputed'), `the panel says why it is pending: ${pending}`);
  await h.screenshot('library-money');

  step('an SD edition the studio registers on chain without uploading its master: shown, not sold');
  if (!(await getJson(`/v1/films/${FILM}`)).editions.some((e) => e.quality === 'sd')) {
    const studio = createWalletClient({ account: privateKeyToAccount(STUDIO_ADMIN_KEY), transport: http(rpc) });
    const hash = await studio.writeContract({
      address: config.deployment.contracts.market,
      abi: parseAbi(['function registerEdition(uint64 filmId, uint8 quality, bytes32 masterHash, uint64 priceCents)']),
      functionName: 'registerEdition',
      args: [BigInt(FILM), 0, keccak256(toHex('an SD master never uploaded')), 400n],
      chain: null,
    });
    const receipt = await createPublicClient({ transport: http(rpc) }).waitForTransactionReceipt({ hash });
    check(receipt.status === 'success', `registerEdition: ${receipt.status}`);
  }
  const sd = await until('the SD edition in the mirror', 30_000, async () =>
    (await getJson(`/v1/films/${FILM}`)).editions.find((e) => e.quality === 'sd'));
  check(sd.active && !sd.served, `the SD edition is on sale on chain, not served: ${JSON.stringify(sd)}`);
  // A licence of it, bought in stablecoin on chain, offered for resale: not sold either.
  const sdLicence = seller.json(['buy', String(FILM), '--quality', 'sd', '--crypto']).licence_id;
  const sdOffer = seller.json(['resell', sdLicence, '--price', '3.00']).offer_id;
  await until('the SD offer in the mirror', 30_000, async () => (await offerStatus(sdOffer)) === 'active');
  await page.goto(`${base}/films/${FILM}`);
  const sdRow = page.locator('table.editions tbody tr', { hasText: 'SD' });
  await sdRow.locator('[data-testid=not-served]').waitFor();
  check((await sdRow.locator('a').count()) === 0, 'no Buy link for the SD edition');
  check((await page.locator('table.editions a', { hasText: 'Buy HD' }).count()) === 1, 'HD is still sold');
  const sdMarket = await page.locator('[data-testid=market-sd] h3').textContent();
  check(!sdMarket.includes('new'), `no price new for the SD edition: ${sdMarket}`);
  const sdOfferRow = page.locator(`[data-testid=market-sd] tr[data-offer="${sdOffer}"]`);
  await sdOfferRow.locator('[data-testid=not-served]').waitFor();
  check((await sdOfferRow.locator('a').count()) === 0, 'no Buy link for the SD offer');
  await h.screenshot('film-edition-not-served');
  await page.goto(`${base}/films/${FILM}/buy/sd`);
  const refusal = await page.locator('[role=alert], .error').first().textContent();
  check(refusal.includes('not available from Tangible'), `the SD checkout says why: ${refusal}`);
  await page.goto(`${base}/films/${FILM}/offers/${sdOffer}`);
  const offerRefusal = await page.locator('[role=alert], .error').first().textContent();
  check(offerRefusal.includes('its licences cannot be bought'), `the SD offer's checkout says why: ${offerRefusal}`);
  await page.goto(`${base}/`);
  const card = page.locator('[data-testid=films] li', { has: page.locator(`a[href="/films/${FILM}"]`) });
  // The list renders after the catalogue's fetch: wait for the card's badges before reading them.
  await card.locator('.badge').first().waitFor();
  await h.screenshot('catalogue-edition-not-served');
  const badges = await card.locator('.badge').allTextContents();
  check(badges.includes('HD') && !badges.includes('SD'), `the catalogue shows the editions on sale, not SD: ${badges}`);
});
for (const home of homes) rmSync(home, { recursive: true, force: true });
