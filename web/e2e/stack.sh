# The devstack a browser run drives, shared by web/e2e/run.sh (`make test-web`) and
# scripts/bench.d/web.sh (`make bench`); sourced, not run. Before sourcing, set `root` (the clone)
# and `tag` (the prefix of its messages). `tangible-stack up` (anvil, PostgreSQL, localstripe,
# contracts and demo catalogue with its masters uploaded — the API sells only editions it serves —,
# indexer, and the API serving web/dist with localstripe's fake Stripe.js) on its own ports and
# run folder: WEB_E2E_{ANVIL,API,STRIPE,PG,METRICS}_PORT and
# WEB_E2E_RUN; WEB_E2E_NO_BUILD=1 uses the debug binaries as they are. Sets `bin` (the binaries),
# `run`, `base` (the API's URL, which serves the storefront) and an EXIT trap that stops the stack.
export PATH="$root/.tools/bin:$PATH"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/tangible/target}"
export CARGO_INCREMENTAL="${CARGO_INCREMENTAL:-0}"

ANVIL_PORT="${WEB_E2E_ANVIL_PORT:-28545}"
API_PORT="${WEB_E2E_API_PORT:-28080}"
STRIPE_PORT="${WEB_E2E_STRIPE_PORT:-28420}"
PG_PORT="${WEB_E2E_PG_PORT:-54349}"
METRICS_PORT="${WEB_E2E_METRICS_PORT:-29102}"
run="${WEB_E2E_RUN:-$root/.run/web-e2e}"

for p in "$ANVIL_PORT" "$API_PORT" "$STRIPE_PORT" "$PG_PORT" "$METRICS_PORT"; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
    echo "$tag: port $p is in use (another run?); set WEB_E2E_*_PORT" >&2
    exit 1
  fi
done

if [ "${WEB_E2E_NO_BUILD:-0}" != 1 ]; then
  echo "$tag: building the binaries (debug)…" >&2
  cargo build --quiet --locked -p tangible-devstack --bin tangible-stack \
    -p tangible-api --bin tangible-api -p tangible-indexer --bin tangible-indexer \
    -p tangible-cli --bin tangible
fi
bin="$CARGO_TARGET_DIR/debug"

rm -rf "$run"
mkdir -p "$run"
stack_pid=""
cleanup() {
  if [ -n "$stack_pid" ] && kill -0 "$stack_pid" 2>/dev/null; then
    kill -INT "$stack_pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$stack_pid" 2>/dev/null || break; sleep 0.2; done
    kill "$stack_pid" 2>/dev/null || true
  fi
}
trap cleanup EXIT

"$bin/tangible-stack" up --bin-dir "$bin" --run-dir "$run" --deployments-dir "$run/deployments" \
  --anvil-port "$ANVIL_PORT" --api-port "$API_PORT" --stripe-port "$STRIPE_PORT" \
  --postgres-port "$PG_PORT" --indexer-metrics-port "$METRICS_PORT" \
  >"$run/stack.log" 2>&1 &
stack_pid=$!

wait_ready() { # url seconds what
  for _ in $(seq 1 $(($2 * 5))); do
    if curl -fsS -o /dev/null "$1" 2>/dev/null; then return 0; fi
    if [ -n "$stack_pid" ] && ! kill -0 "$stack_pid" 2>/dev/null; then
      echo "$tag: the stack stopped; its log:" >&2; tail -n 40 "$run/stack.log" >&2; return 1
    fi
    sleep 0.2
  done
  echo "$tag: $3 not ready after $2 s" >&2
  return 1
}
wait_ready "http://127.0.0.1:$API_PORT/readyz" 300 "the stack"
# The banner (naming the OpenAPI document) is printed once the demo catalogue is deployed.
for _ in $(seq 1 900); do grep -q "OpenAPI:" "$run/stack.log" 2>/dev/null && break; sleep 0.2; done
grep -q "OpenAPI:" "$run/stack.log" || { echo "$tag: no stack banner; its log:" >&2; tail -n 40 "$run/stack.log" >&2; exit 1; }

# The devstack's API serves web/dist with localstripe's Stripe.js and a publishable key.
base="http://127.0.0.1:$API_PORT"
curl -fsS "$base/v1/config" | grep -q '"stripe_publishable_key":"pk_' \
  || { echo "$tag: the stack's API publishes no Stripe publishable key" >&2; exit 1; }
