#!/usr/bin/env bash
# `make test-web`: the storefront in headless Chromium against a real stack.
#
# Starts the devstack (`tangible-stack up`: anvil, PostgreSQL, localstripe, contracts and demo
# catalogue, indexer, and the API serving web/dist with localstripe's fake Stripe.js) on its own
# ports and run folder (WEB_E2E_RUN), then web/e2e/checkout.mjs (buyer), web/e2e/studio.mjs (studio
# dashboard), web/e2e/cli_pay.mjs (`tangible buy --card` paid on the web page),
# web/e2e/storefront.mjs (resale offers and price history, bought by card with a wallet extension),
# web/e2e/playback.mjs (download, the service worker's decrypting player, offline, tamper, expiry)
# and, last, web/e2e/operator.mjs (the operator console: refused to a fresh key; for the platform
# admin, anvil's account 0, the float, a reconciliation of today that must balance after the card
# purchases of the scenarios before it, failed refunds, dead jobs and alerts), then
# web/e2e/resale.mjs (a card-only wallet with 0 ETH resells, spends and withdraws its proceeds
# through signed orders; it moves anvil's clock, so it runs last) drive Chromium
# (playwright-core, Debian's /usr/bin/chromium) against the API's URL. The startup is
# web/e2e/stack.sh, shared with the storefront's benchmark (scripts/bench.d/web.sh).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
tag=test-web
. "$root/web/e2e/stack.sh"

out="${WEB_E2E_OUT:-$root/web/e2e-output}"
node "$root/web/e2e/checkout.mjs" "$base" "$out"
node "$root/web/e2e/studio.mjs" "$base" "$out"
node "$root/web/e2e/cli_pay.mjs" "$base" "$out" "$bin/tangible"
node "$root/web/e2e/storefront.mjs" "$base" "$out" "$bin/tangible" "http://127.0.0.1:$ANVIL_PORT"
node "$root/web/e2e/playback.mjs" "$base" "$out"
node "$root/web/e2e/operator.mjs" "$base" "$out"
node "$root/web/e2e/resale.mjs" "$base" "$out" "http://127.0.0.1:$ANVIL_PORT"
