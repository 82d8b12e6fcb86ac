#!/usr/bin/env bash
# Issue 17's P2P targets on loopback (crates/content/examples/swarm_bench.rs): (1) download from
# two seeding peers against one, each peer capped at the same upload rate — two peers ≥ 1.5× one
# peer, worst round; (2) five clients fetching one 1 GiB film at once from the API's node and
# from each other — the API's node uploads ≤ 1.2× the film. BENCH_QUICK=1: 64 MiB, 2 rounds,
# a 256 MiB swarm.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
size=256 rounds=3 swarm=1024
if [ "${BENCH_QUICK:-0}" = 1 ]; then size=64 rounds=2 swarm=256; fi
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg) (1/5/15 min)"
cargo run --quiet --release --locked -p tangible-content --example swarm_bench -- \
  --size-mib "$size" --cap-mib 32 --rounds "$rounds" --swarm-mib "$swarm" --clients 5
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg) (1/5/15 min)"
