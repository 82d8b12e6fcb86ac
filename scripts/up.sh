#!/usr/bin/env bash
# The local stack (`make up`): anvil, a private PostgreSQL cluster, localstripe, the contracts
# with the demo studio and film, the indexer and the API. The orchestration lives in Rust
# (crates/devstack, binary `tangible-stack`); this script only builds it and hands over.
# Ports: ANVIL_PORT (8545), API_PORT (8080), STRIPE_PORT (8420), PG_PORT (54329),
# INDEXER_METRICS_PORT (9102); ANVIL_BLOCK_TIME (seconds, default: a block per transaction).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
export PATH="$root/.tools/bin:$PATH"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/tangible/target}"

# Say so before building if a stack already runs (tangible-stack checks again, under a lock).
lock="$root/.run/stack.lock"
if [ -s "$lock" ]; then
  pid="$(tr -dc 0-9 < "$lock")"
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    echo "make up: a Tangible stack is already running (pid $pid). Use it, or stop it with Ctrl-C in its terminal (or: kill $pid)." >&2
    exit 1
  fi
fi

bash "$root/scripts/bootstrap.sh"
(cd "$root/contracts" && forge build --quiet)   # the Rust bindings read the artifacts
# Not --quiet: on a fresh machine this is the long step (15-20 minutes on 2 cores), and cargo's
# own progress bar (and its "Blocking waiting for file lock" when another build holds the
# target directory) is what tells the user it is moving.
echo "make up: building the release binaries into $CARGO_TARGET_DIR/release with cargo (first time on a fresh machine: 15-20 minutes on 2 cores; a no-op afterwards)…" >&2
cargo build --release --locked \
  -p tangible-devstack --bin tangible-stack \
  -p tangible-api --bin tangible-api \
  -p tangible-indexer --bin tangible-indexer \
  -p tangible-cli --bin tangible
bin="$CARGO_TARGET_DIR/release"
exec "$bin/tangible-stack" up --bin-dir "$bin" --run-dir "$root/.run" --deployments-dir "$root/deployments"
