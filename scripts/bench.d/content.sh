#!/usr/bin/env bash
# P2P transfer of a 1 GiB file on loopback through the project's content store (FsStore,
# provider, downloader with progress) next to a bare iroh-blobs FsStore -> FsStore transfer of the
# same bytes (disk to disk, like the project), rounds alternating in the same run; every round and
# the worst one are printed. Target: project ≥ 0.9× bare iroh-blobs FsStore in the worst round.
# BENCH_QUICK=1: 256 MiB, 5 rounds.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
size=1024 rounds=5
if [ "${BENCH_QUICK:-0}" = 1 ]; then size=256 rounds=5; fi
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg) (1/5/15 min)"
echo "target: project store ≥ 0.9× bare iroh-blobs FsStore -> FsStore, worst round"
cargo run --quiet --release --locked -p tangible-content --example p2p_bench -- \
  --size-mib "$size" --rounds "$rounds"
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg) (1/5/15 min)"
