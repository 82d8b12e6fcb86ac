#!/usr/bin/env bash
# `tangible play` (issue 15): throughput of the loopback film server (one GET of the whole film,
# read by a plain TCP client) next to, in the same run, the mapped decrypt of the same file
# (`film::decrypt_file` to a sink, one thread). Target: server >= 0.8x mapped decrypt.
# Also the transport's ceiling: a bare loopback TCP stream of the same length, same reader.
# Prints the figures, the ratios, the target and the machine (cores, CPU, load), then the CPU
# time per GB of each path (server threads and reader apart) and the throughput that CPU time
# alone would allow on the machine's cores, idle.
# BENCH_QUICK=1: 256 MiB (default 1 GiB).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
mib=1024
if [ "${BENCH_QUICK:-0}" = 1 ]; then mib=256; fi
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg) (1/5/15 min)"
echo "target (issue 15): loopback server throughput >= 0.80x mapped film decrypt, same file, same run"
cargo run --quiet --release --locked -p tangible-cli --example play_bench -- --mib "$mib"
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg) (1/5/15 min)"
