// Seed flow 2 on the web for a card-only buyer whose wallet holds 0 ETH (issue 12), in headless
// Chromium: a fresh wallet, imported into the browser, buys the HD edition by card; its library
// says the licence is on hold; once the hold has passed (anvil's clock moved forward) it lists the
// licence at 3.00, the studio then sets a 4.00 resale floor, a visitor's film page shows that offer
// under the floor with no Buy link and the seller withdraws it; it puts the licence on sale at
// 25.00, sees its own offer page, reprices the offer, withdraws it and lists it again
// (each a signed order the operator sends); another buyer, in a second browser, opens that offer's
// card checkout, the seller lowers the price meanwhile, and the buyer is shown the new price
// before paying it by card; the seller's 80 % is pending, then available once the card payment's
// clearance time has passed (anvil's clock again); the seller buys another licence with that
// credit at the checkout, withdraws the rest to a fresh address (whose stablecoin balance is read
// from the chain) and reads every move in the money panel's history; the studio collects its
// royalties through the API. The seller's ETH balance is 0 at the start and at the end. It moves
// the chain's clock, so it runs after every other scenario.
//
// usage: node web/e2e/resale.mjs <base-url> <screenshot-folder> <rpc-url>
/* global document */
import { createPublicClient, createTestClient, http, parseAbi } from 'viem';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { awaitLibraryLicence, check, fillCard, jsonGetter, open, signInKey, until } from './harness.mjs';

const [base, out, rpc] = process.argv.slice(2);
if (!base || !out || !rpc) throw new Error('usage: resale.mjs <base-url> <screenshot-folder> <rpc-url>');

const FILM = 1; // the demo film: HD 9.00 €
// anvil's account 9 (well known, local only), a card buyer no other scenario uses (its ETH is
// not used: it pays by card).
const CARD_BUYER_KEY = '0x2a871d0798f97d79848a013d4936a73bf4cc922c825d33c1cf7073dff6d409c6';
// anvil's account 1: the demo studio's admin and royalty recipient (crates/devstack: STUDIO).
const STUDIO_ADMIN_KEY = '0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d';

const sellerKey = generatePrivateKey();
const seller = privateKeyToAccount(sellerKey);
const payee = privateKeyToAccount(generatePrivateKey()).address; // where the rest is withdrawn
const chain = createPublicClient({ transport: http(rpc) });
const anvil = createTestClient({ mode: 'anvil', transport: http(rpc) });
const MARKET_ABI = parseAbi(['function holdPeriod() view returns (uint256)', 'function clearancePeriod() view returns (uint256)']);
const ERC20_ABI = parseAbi(['function balanceOf(address) view returns (uint256)']);

const getJson = jsonGetter(base);
/** Moves anvil's clock `secs` forward and mines a block at the new time. */
async function warp(secs) {
  await anvil.increaseTime({ seconds: Number(secs) });
  await anvil.mine({ blocks: 1 });
}
const offer = async (id) => (await getJson(`/v1/offers?film_id=${FILM}&status=all&limit=100`)).items.find((o) => o.offer_id === id);

const h = await open('resale', out);
/** The second buyer's browser while it is open (closed by the scenario, or on failure below). */
let buyer = null;
const { page, step } = h;
/**
 * Opens `path` as the app's own links do (a click the router takes): a page load would lock the
 * wallet, whose key lives in this tab's memory only.
 */
const visit = (path) =>
  page.evaluate((p) => {
    const a = document.createElement('a');
    a.href = p;
    document.body.append(a);
    a.click();
    a.remove();
  }, path);

await h.run(async () => {
  const config = await getJson('/v1/config');
  const market = config.deployment.contracts.market;
  const ethOfSeller = () => chain.getBalance({ address: seller.address });
  check((await ethOfSeller()) === 0n, 'the fresh wallet holds 0 ETH');

  step('a fresh wallet (0 ETH) imported into the browser, signed in, buys HD by card');
  await page.goto(`${base}/wallet?next=/films/${FILM}/buy/hd`);
  await page.getByRole('tab', { name: 'Import' }).click();
  await page.fill('textarea', sellerKey);
  await page.fill('input[name=password]', 'resale seller password');
  await page.fill('input[name=confirm]', 'resale seller password');
  await page.click('text=Import wallet');
  await page.locator('[data-testid=card-element] input[placeholder=number]').waitFor({ timeout: 60_000 });
  await page.locator('[data-testid=credit-short]').waitFor({ state: 'attached' });
  check((await page.locator('[data-testid=credit-pay]').count()) === 0, 'no "pay with your balance" without credit');
  await fillCard(page, '4242424242424242');
  await page.click('button:has-text("Pay ")');
  await page.locator('[data-testid=fulfilled]').waitFor({ timeout: 90_000 });
  const licence = (await page.locator('[data-testid=fulfilled]').textContent()).match(/#(\d+)/)?.[1];
  check(licence, 'the card licence number is shown');

  step('the library: the card licence is on hold');
  await page.click('text=Go to your library');
  await awaitLibraryLicence(page);
  const card = page.locator(`[data-licence="${licence}"]`);
  const hold = await card.locator('[data-testid=resale-hold]').textContent();
  check(hold.includes('You can resell this licence from'), `the hold is explained: ${hold}`);
  check((await card.locator('[data-testid=resale] form').count()) === 0, 'no resale form during the hold');
  await h.screenshot('library-hold');

  step("the hold passes (anvil's clock); with no floor yet the licence goes on sale at 3.00");
  await warp((await chain.readContract({ address: market, abi: MARKET_ABI, functionName: 'holdPeriod' })) + 1n);
  await visit('/library');
  await card.locator('[data-testid=resale] input[name=price]').waitFor();
  await card.locator('input[name=price]').fill('3');
  await card.getByRole('button', { name: 'Put on sale' }).click();
  await card.locator('[data-testid=resale-done]').waitFor({ timeout: 60_000 });
  const early = (await card.locator('[data-testid=offer-link]').getAttribute('href')).split('/').pop();
  await until('the 3.00 offer in the mirror', 30_000, async () => (await offer(early))?.status === 'active');
  check((await offer(early)).below_floor === false, 'not under any floor yet');

  step('the studio sets a resale floor of 4.00 on HD: a visitor sees the 3.00 offer under it, with no Buy link; the seller is told and withdraws it');
  const studioAdmin = await signInKey(base, STUDIO_ADMIN_KEY);
  const floorSet = await fetch(`${base}/v1/editions/${FILM}-hd/resale-floor`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${studioAdmin.token}` },
    body: JSON.stringify({ floor_cents: 400 }),
  });
  check(floorSet.status === 200, `the studio sets the HD floor: ${floorSet.status} ${await floorSet.text()}`);
  await until('the floor in the mirror', 30_000, async () =>
    (await getJson(`/v1/films/${FILM}`)).editions.some((e) => e.quality === 'hd' && e.resale_floor_cents === 400),
  );
  check((await offer(early)).below_floor === true, 'the API marks the 3.00 offer under the floor');
  const visitor = await open('resale-visitor', out);
  try {
    await visitor.page.goto(`${base}/films/${FILM}`);
    const row = visitor.page.locator(`[data-offer="${early}"]`);
    await row.locator('[data-testid=below-floor]').waitFor({ timeout: 30_000 });
    check((await row.locator('a', { hasText: 'Buy' }).count()) === 0, 'no Buy link on an offer under the floor');
    await visitor.screenshot('offer-under-floor');
    check(visitor.problems.length === 0, `the film page as a visitor: ${visitor.problems.join('; ')}`);
  } finally {
    await visitor.browser.close();
  }
  await visit('/library');
  await card.locator('[data-testid=offer-price]').waitFor();
  const warned = await card.locator('[data-testid=resale-floor]').textContent();
  check(warned.includes('your offer is below it and cannot sell'), `the seller is told: ${warned}`);
  await card.getByRole('button', { name: 'Withdraw the offer' }).click();
  await card.getByText('Your offer is withdrawn').waitFor({ timeout: 60_000 });
  await until('the 3.00 offer cancelled in the mirror', 30_000, async () => (await offer(early))?.status === 'cancelled');

  step('the licence goes on sale at 25.00 above the floor, bad prices refused');
  await card.locator('[data-testid=resale] input[name=price]').waitFor();
  check((await card.locator('[data-testid=resale-floor]').textContent()).includes('€4.00'), "the studio's floor is shown");
  const price = card.locator('input[name=price]');
  await price.fill('3.99');
  await card.getByRole('button', { name: 'Put on sale' }).click();
  check(
    (await card.locator('.field-error').textContent()).includes("This film's studio sets the lowest resale price at €4.00."),
    'a price under the floor is refused here',
  );
  // A valid price in between clears the error, so the next one is read fresh (both say the floor).
  await price.fill('25');
  await card.locator('.field-error').waitFor({ state: 'detached' });
  await price.fill('0.10');
  await card.locator('.field-error').waitFor();
  check((await card.locator('.field-error').textContent()).includes('€4.00'), 'and a price under 0.20 € too, at the floor');
  await price.fill('twelve');
  check((await card.locator('.field-error').textContent()).includes('Enter a price in euros'), 'a price that is not a number');
  await price.fill('25');
  check((await card.locator('[data-testid=resale-split]').textContent()).includes('you receive €20.00'), 'the seller share of 25.00 is shown');
  await h.screenshot('resale-form');
  await card.getByRole('button', { name: 'Put on sale' }).click();
  await card.locator('[data-testid=resale-done]').waitFor({ timeout: 60_000 });
  check((await card.locator('[data-testid=offer-price]').textContent()) === '€25.00', 'on sale for 25.00');
  const first = (await card.locator('[data-testid=offer-link]').getAttribute('href')).split('/').pop();
  const listed = await until('the offer in the mirror', 30_000, async () => {
    const o = await offer(first);
    return o?.status === 'active' && o;
  });
  check(listed.price_cents === 2500 && listed.licence_id === licence, `the mirror's offer: ${JSON.stringify(listed)}`);
  check(listed.seller_address.toLowerCase() === seller.address.toLowerCase(), 'offered by the seller');
  await h.screenshot('resale-listed');

  step('the offer page is the seller\'s own');
  await visit(`/films/${FILM}/offers/${first}`);
  await page.locator('[data-testid=own-offer]').waitFor();
  await h.screenshot('own-offer');
  await visit('/library');

  step('reprice to 22.00, withdraw the offer, list again at 25.00');
  await price.fill('22.00');
  await card.getByRole('button', { name: 'Change the price' }).click();
  await card.getByText('The price of your offer is now €22.00.').waitFor({ timeout: 60_000 });
  await until('the new price in the mirror', 30_000, async () => (await offer(first))?.price_cents === 2200);
  await card.getByRole('button', { name: 'Withdraw the offer' }).click();
  await card.getByText('Your offer is withdrawn').waitFor({ timeout: 60_000 });
  await until('the offer cancelled in the mirror', 30_000, async () => (await offer(first))?.status === 'cancelled');
  await price.fill('25');
  await card.getByRole('button', { name: 'Put on sale' }).click();
  await card.getByText('On sale for €25.00').first().waitFor({ timeout: 60_000 });
  const second = (await card.locator('[data-testid=offer-link]').getAttribute('href')).split('/').pop();
  check(second !== first, 'a new offer');
  await until('the second offer in the mirror', 30_000, async () => (await offer(second))?.status === 'active');

  step('another buyer, in another browser, opens the offer checkout at 25.00');
  const b = await open('resale-buyer', out);
  buyer = b;
  await b.page.goto(`${base}/wallet?next=/films/${FILM}/offers/${second}`);
  await b.page.getByRole('tab', { name: 'Import' }).click();
  await b.page.fill('textarea', CARD_BUYER_KEY);
  await b.page.fill('input[name=password]', 'resale buyer password');
  await b.page.fill('input[name=confirm]', 'resale buyer password');
  await b.page.click('text=Import wallet');
  await b.page.locator('[data-testid=card-element] input[placeholder=number]').waitFor({ timeout: 60_000 });
  check((await b.page.locator('[data-testid=total]').textContent()) === '€25.00', 'the checkout shows 25.00');

  step('the seller lowers the price to 20.00 meanwhile; the buyer is shown the new price before any charge');
  await price.fill('20.00');
  await card.getByRole('button', { name: 'Change the price' }).click();
  await card.getByText('The price of your offer is now €20.00.').waitFor({ timeout: 60_000 });
  await fillCard(b.page, '4242424242424242');
  await b.page.click('button:has-text("Pay ")');
  await b.page.locator('[data-testid=repriced]').waitFor({ timeout: 30_000 });
  const repriced = await b.page.locator('[data-testid=repriced]').textContent();
  check(repriced.includes('The price is now €20.00') && repriced.includes('it was €25.00'), `the new price explained: ${repriced}`);
  await b.screenshot('offer-repriced');
  await b.page.click('button:has-text("Pay €20.00")');
  await b.page.locator('[data-testid=fulfilled]').waitFor({ timeout: 90_000 });
  await b.screenshot('offer-bought');
  await b.browser.close();
  h.problems.push(...b.problems.map((p) => `buyer's browser: ${p}`));
  buyer = null;
  await until('the offer filled in the mirror', 30_000, async () => (await offer(second))?.status === 'filled');

  step("the seller's 16.00 € is pending, then available after the clearance time");
  await visit('/library');
  const money = page.locator('[data-testid=money]');
  await until('the pending 16.00 €', 30_000, async () => {
    await visit('/library');
    // The licence is sold: the shelf is empty until the credit buys another.
    await page.locator('[data-testid=licences], [data-testid=no-licence]').first().waitFor();
    // The money panel loads the account after the shelf: give it time to show.
    await money.waitFor({ timeout: 5_000 }).catch(() => {});
    return (await money.count()) && (await money.locator('[data-testid=pending]').count()) && (await money.locator('[data-testid=pending]').textContent()) === '€16.00';
  });
  check((await money.locator('[data-testid=available]').textContent()) === '€0.00', 'nothing available before clearance');
  check((await money.locator('[data-testid=withdraw]').count()) === 0, 'no withdrawal form with nothing available');
  await h.screenshot('money-pending');
  await warp((await chain.readContract({ address: market, abi: MARKET_ABI, functionName: 'clearancePeriod' })) + 1n);
  await until('the 16.00 € available', 60_000, async () => {
    await visit('/library');
    // The licence is sold: the shelf is empty until the credit buys another.
    await page.locator('[data-testid=licences], [data-testid=no-licence]').first().waitFor();
    await money.waitFor({ timeout: 5_000 }).catch(() => {});
    return (await money.count()) && (await money.locator('[data-testid=available]').textContent()) === '€16.00';
  });
  await h.screenshot('money-available');

  step('buy the HD edition with the credit at the checkout');
  await visit(`/films/${FILM}/buy/hd`);
  const creditPay = page.locator('[data-testid=credit-pay]');
  await creditPay.waitFor();
  check((await creditPay.locator('[data-testid=credit-available]').textContent()) === '€16.00', 'the checkout offers the 16.00 €');
  await h.screenshot('checkout-credit');
  // First the connection drops as the order is posted (it never reaches the API): the outcome is
  // unknown to the page, so the card stays off; pressing again posts an order with the same
  // nonce, which pays once.
  await page.route('**/v1/accounts/*/purchases', (route) => route.abort('connectionreset'));
  h.expectedFailures.push('/purchases');
  h.expectedConsole.push(/ERR_CONNECTION_RESET|Failed to load resource/);
  const payButton = creditPay.getByRole('button', { name: 'Pay €9.00 from your balance' });
  await payButton.click();
  await creditPay.getByText('Your balance may still pay for it: the card stays off').waitFor({ timeout: 30_000 });
  check(await page.locator('button:has-text("Pay €9.00"):not(:has-text("balance"))').isDisabled(), 'the card is off');
  await h.screenshot('checkout-credit-unknown');
  await page.unroute('**/v1/accounts/*/purchases');
  const nonceBefore = (await getJson(`/v1/accounts/${seller.address}`)).order_nonce;
  await payButton.click();
  await page.locator('[data-testid=credit-fulfilled]').waitFor({ timeout: 60_000 });
  check((await getJson(`/v1/accounts/${seller.address}`)).order_nonce === nonceBefore + 1, 'one order ran');
  const creditLicence = (await page.locator('[data-testid=credit-fulfilled]').textContent()).match(/#(\d+)/)?.[1];
  check(creditLicence && creditLicence !== licence, `a new licence: ${creditLicence}`);
  await h.screenshot('checkout-credit-paid');

  step('withdraw the remaining 7.00 € to another address; bad inputs refused');
  await page.click('text=Go to your library');
  const withdraw = page.locator('[data-testid=withdraw]');
  await withdraw.waitFor();
  check((await money.locator('[data-testid=available]').textContent()) === '€7.00', 'available 7.00 after the purchase');
  // The shelf reads the indexer's mirror, which may not hold the purchase's block yet.
  await until('the credit-bought licence in the library', 30_000, async () => {
    if ((await page.locator(`[data-licence="${creditLicence}"]`).count()) === 1) return true;
    await visit('/library');
    await page.locator('[data-testid=licences], [data-testid=no-licence]').first().waitFor();
    await withdraw.waitFor();
    return (await page.locator(`[data-licence="${creditLicence}"]`).count()) === 1;
  });
  await withdraw.locator('input[name=amount]').fill('7.01');
  await withdraw.locator('input[name=to]').fill('0x1234');
  await withdraw.getByRole('button', { name: 'Withdraw' }).click();
  const errors = await withdraw.locator('.field-error').allTextContents();
  check(errors.some((e) => e.includes('at most €7.00')) && errors.some((e) => e.includes('Enter an address')), `refused: ${errors}`);
  await withdraw.locator('input[name=amount]').fill('7.00');
  await withdraw.locator('input[name=to]').fill(payee);
  await h.screenshot('withdraw-form');
  await withdraw.getByRole('button', { name: 'Withdraw' }).click();
  await withdraw.locator('[data-testid=withdraw-done]').waitFor({ timeout: 60_000 });
  const units = await chain.readContract({ address: config.stablecoin.address, abi: ERC20_ABI, functionName: 'balanceOf', args: [payee] });
  check(units === 700n * BigInt(config.stablecoin.units_per_cent), `the payee holds 7.00 € of stablecoin: ${units}`);
  await h.screenshot('withdrawn');
  await until('the panel re-read (nothing left)', 30_000, async () => (await money.locator('[data-testid=available]').textContent()) === '€0.00');
  const history = await until('the moves in the panel', 30_000, async () => {
    await visit('/library');
    await money.locator('[data-testid=money-history]').waitFor();
    const kinds = await money.locator('[data-testid=money-history] li').evaluateAll((lis) => lis.map((li) => li.getAttribute('data-kind')));
    return ['withdrawal', 'credit_purchase', 'cleared', 'sale'].every((k) => kinds.includes(k)) && kinds;
  });
  check(history[0] === 'withdrawal', `newest first: ${history}`);
  const text = await money.locator('[data-testid=money-history]').textContent();
  check(text.includes(`Withdrawn to ${payee}`) && text.includes('− €7.00') && text.includes('− €9.00') && text.includes('+ €16.00'), `the history: ${text}`);
  await h.screenshot('money-history');

  step('the studio collects its cleared royalties through the API');
  const studioId = (await getJson(`/v1/films/${FILM}`)).studio_id;
  const studio = await signInKey(base, STUDIO_ADMIN_KEY);
  const balanceOf = (who) => chain.readContract({ address: config.stablecoin.address, abi: ERC20_ABI, functionName: 'balanceOf', args: [who] });
  const before = await balanceOf(studio.account.address);
  const collected = await studio.post(`/v1/studios/${studioId}/withdrawals`, {});
  check(collected.to_address.toLowerCase() === studio.account.address.toLowerCase(), `paid to the royalty recipient: ${JSON.stringify(collected)}`);
  // At least the studio's 15 % of this scenario's resale (3.00 €) and 90 % of its two HD sales.
  check(BigInt(collected.amount_units) >= 300n * BigInt(config.stablecoin.units_per_cent), `the amount: ${JSON.stringify(collected)}`);
  check((await balanceOf(studio.account.address)) - before === BigInt(collected.amount_units), 'the recipient received exactly that');

  step('the seller still holds 0 ETH');
  check((await ethOfSeller()) === 0n, 'the seller paid no gas');
  await until("the credit purchase and the withdrawal in the account's history", 30_000, async () => {
    const kinds = (await getJson(`/v1/accounts/${seller.address}`)).history.map((m) => m.kind);
    return kinds.includes('credit_purchase') && kinds.includes('withdrawal');
  });
});
await buyer?.browser.close().catch(() => {});

