#!/usr/bin/env bash
# `make test-web`: the storefront in headless Chromium against a real stack.
#
# Starts the devstack (`tangible-stack up`: anvil, PostgreSQL, localstripe, contracts and demo
# catalogue, indexer, API) on its own ports and run folder, then a second API instance serving
# the built web app with the Stripe publishable key and localstripe's Stripe.js URL (the
# devstack's own API is started without them), its worker off so the devstack's API settles
# the card payments from localstripe's webhooks, as two instances of one deployment would.
# Then web/e2e/checkout.mjs drives Chromium (playwright-core, Debian's /usr/bin/chromium).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
export PATH="$root/.tools/bin:$PATH"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/tangible/target}"
export CARGO_INCREMENTAL="${CARGO_INCREMENTAL:-0}"

ANVIL_PORT="${WEB_E2E_ANVIL_PORT:-28545}"
API_PORT="${WEB_E2E_API_PORT:-28080}"
WEB_PORT="${WEB_E2E_WEB_PORT:-28081}"
STRIPE_PORT="${WEB_E2E_STRIPE_PORT:-28420}"
PG_PORT="${WEB_E2E_PG_PORT:-54349}"
METRICS_PORT="${WEB_E2E_METRICS_PORT:-29102}"
run="$root/.run/web-e2e"

for p in "$ANVIL_PORT" "$API_PORT" "$WEB_PORT" "$STRIPE_PORT" "$PG_PORT" "$METRICS_PORT"; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
    echo "test-web: port $p is in use (another run?); set WEB_E2E_*_PORT" >&2
    exit 1
  fi
done

if [ "${WEB_E2E_NO_BUILD:-0}" != 1 ]; then
  echo "test-web: building the binaries (debug)…" >&2
  cargo build --quiet --locked -p tangible-devstack --bin tangible-stack \
    -p tangible-api --bin tangible-api -p tangible-indexer --bin tangible-indexer
fi
bin="$CARGO_TARGET_DIR/debug"

rm -rf "$run"
mkdir -p "$run"
stack_pid=""
web_pid=""
cleanup() {
  [ -n "$web_pid" ] && kill "$web_pid" 2>/dev/null && wait "$web_pid" 2>/dev/null || true
  if [ -n "$stack_pid" ] && kill -0 "$stack_pid" 2>/dev/null; then
    kill -INT "$stack_pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$stack_pid" 2>/dev/null || break; sleep 0.2; done
    kill "$stack_pid" 2>/dev/null || true
  fi
}
trap cleanup EXIT

"$bin/tangible-stack" up --bin-dir "$bin" --run-dir "$run" --deployments-dir "$run/deployments" \
  --anvil-port "$ANVIL_PORT" --api-port "$API_PORT" --stripe-port "$STRIPE_PORT" \
  --postgres-port "$PG_PORT" --indexer-metrics-port "$METRICS_PORT" --no-masters \
  >"$run/stack.log" 2>&1 &
stack_pid=$!

wait_ready() { # url seconds what
  for _ in $(seq 1 $(($2 * 5))); do
    if curl -fsS -o /dev/null "$1" 2>/dev/null; then return 0; fi
    if [ -n "$stack_pid" ] && ! kill -0 "$stack_pid" 2>/dev/null; then
      echo "test-web: the stack stopped; its log:" >&2; tail -n 40 "$run/stack.log" >&2; return 1
    fi
    sleep 0.2
  done
  echo "test-web: $3 not ready after $2 s" >&2
  return 1
}
wait_ready "http://127.0.0.1:$API_PORT/readyz" 300 "the stack"
# The banner (naming the OpenAPI document) is printed once the demo catalogue is deployed.
for _ in $(seq 1 900); do grep -q "OpenAPI:" "$run/stack.log" 2>/dev/null && break; sleep 0.2; done
grep -q "OpenAPI:" "$run/stack.log" || { echo "test-web: no stack banner; its log:" >&2; tail -n 40 "$run/stack.log" >&2; exit 1; }

deployment="$(ls "$run"/deployments/*.json | head -n 1)"
env -i PATH="$PATH" HOME="$HOME" RUST_LOG=info \
  TANGIBLE_API_LISTEN_ADDR="127.0.0.1:$WEB_PORT" \
  TANGIBLE_API_DATABASE_URL="postgres://postgres@127.0.0.1:$PG_PORT/tangible" \
  TANGIBLE_API_DB_MAX_CONNECTIONS=4 \
  TANGIBLE_API_RPC_URL="http://127.0.0.1:$ANVIL_PORT" \
  TANGIBLE_API_DEPLOYMENT_FILE="$deployment" \
  TANGIBLE_API_OPERATOR_KEY=0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80 \
  TANGIBLE_API_STRIPE_SECRET_KEY=sk_test_tangible_devstack \
  TANGIBLE_API_STRIPE_API_BASE="http://127.0.0.1:$STRIPE_PORT" \
  TANGIBLE_API_STRIPE_WEBHOOK_SECRET=whsec_tangible_devstack \
  TANGIBLE_API_STRIPE_PUBLISHABLE_KEY=pk_test_tangible_web \
  TANGIBLE_API_STRIPE_JS_URL="http://127.0.0.1:$STRIPE_PORT/js.stripe.com/v3/" \
  TANGIBLE_API_WEB_DIR="$root/web/dist" \
  TANGIBLE_API_TOKEN_SECRET="$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')" \
  TANGIBLE_API_SIWE_DOMAIN="127.0.0.1:$WEB_PORT" \
  TANGIBLE_API_SIWE_URI="http://127.0.0.1:$WEB_PORT" \
  TANGIBLE_API_RUN_WORKER=false \
  TANGIBLE_API_JSON_LOGS=false \
  "$bin/tangible-api" >"$run/web-api.log" 2>&1 &
web_pid=$!
wait_ready "http://127.0.0.1:$WEB_PORT/readyz" 60 "the web API" || { tail -n 20 "$run/web-api.log" >&2; exit 1; }

out="${WEB_E2E_OUT:-$root/web/e2e-output}"
node "$root/web/e2e/checkout.mjs" "http://127.0.0.1:$WEB_PORT" "$out"
