#!/usr/bin/env bash
# The local stack: anvil, the contracts deployed with a demo studio and film, (more services as
# they land). Prints the addresses, stays in the foreground, stops everything on Ctrl-C.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
run="$root/.run"
mkdir -p "$run"
export PATH="$root/.tools/bin:$PATH"

ANVIL_PORT="${ANVIL_PORT:-8545}"
ANVIL_BLOCK_TIME="${ANVIL_BLOCK_TIME:-}"
RPC_URL="http://127.0.0.1:$ANVIL_PORT"
# anvil's first well-known development account (public key material, local use only).
DEV_KEY="${DEPLOYER_PRIVATE_KEY:-0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80}"

# One stack at a time: a second `make up` says so instead of failing on a busy port.
if [ -f "$run/up.pid" ] && kill -0 "$(cat "$run/up.pid")" 2>/dev/null; then
  echo "make up: a stack is already running (pid $(cat "$run/up.pid")); stop it with Ctrl-C in its terminal or: kill $(cat "$run/up.pid")" >&2
  exit 1
fi
if (exec 3<>"/dev/tcp/127.0.0.1/$ANVIL_PORT") 2>/dev/null; then
  echo "make up: port $ANVIL_PORT is already in use; set ANVIL_PORT to another port" >&2
  exit 1
fi
echo $$ > "$run/up.pid"

pids=()
cleanup() {
  trap - INT TERM EXIT
  echo
  echo "make up: stopping…"
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -f "$run/up.pid"
  echo "make up: stopped"
}
trap cleanup INT TERM EXIT

echo "make up: building the Rust binaries…"
cargo build --release --quiet --locked -p tangible-chain --bin tangible-deploy
bin="$CARGO_TARGET_DIR/release"

anvil_args=(--port "$ANVIL_PORT" --silent)
[ -n "$ANVIL_BLOCK_TIME" ] && anvil_args+=(--block-time "$ANVIL_BLOCK_TIME")
anvil "${anvil_args[@]}" > "$run/anvil.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 100); do
  cast chain-id --rpc-url "$RPC_URL" >/dev/null 2>&1 && break
  sleep 0.1
done
cast chain-id --rpc-url "$RPC_URL" >/dev/null || { echo "make up: anvil did not start, see $run/anvil.log" >&2; exit 1; }

"$bin/tangible-deploy" --rpc-url "$RPC_URL" --private-key "$DEV_KEY" --out "$root/deployments" --demo

cat <<MSG

Tangible local stack is up.
  anvil RPC        $RPC_URL (chain id $(cast chain-id --rpc-url "$RPC_URL"))
  deployment file  $root/deployments/$(cast chain-id --rpc-url "$RPC_URL").json
  logs             $run/

Press Ctrl-C to stop everything.
MSG
wait "${pids[0]}"
