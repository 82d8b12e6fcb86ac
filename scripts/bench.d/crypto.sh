#!/usr/bin/env bash
# Film decrypt (issues 4 and 15): a 1 GiB film file decrypted on one thread (file -> sink;
# memory-mapped `film::decrypt_file` on the AES-256-GCM backend chosen for this CPU and on each
# backend forced, and the streaming `film::decrypt`) next to, in the same run, bare ring and
# aws-lc-rs AES-256-GCM loops over 1 MiB buffers in cache (the compute ceiling) and over
# film-sized in-memory buffers (the same memory traffic as the film), then the film again after
# it was evicted and read back from disk through the mapping. Prints the CPU, its AES features,
# the backend chosen and every ratio. Target (issue 15): mapped film >= 0.8x the fastest bare
# implementation in the same run.
# BENCH_QUICK=1: 256 MiB.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
mib=1024
if [ "${BENCH_QUICK:-0}" = 1 ]; then mib=256; fi
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg) (1/5/15 min)"
echo "target (issue 15): film decrypt (mapped file, backend chosen for this CPU) >= 0.80x the fastest bare AES-256-GCM loop of the same run"
cargo run --quiet --release --locked -p tangible-crypto --example decrypt_bench -- --mib "$mib"
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg) (1/5/15 min)"
