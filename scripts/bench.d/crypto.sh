#!/usr/bin/env bash
# Film decrypt (issue 4): a 1 GiB film file decrypted on one thread (file -> sink; memory-mapped
# `film::decrypt_file`, and the streaming `film::decrypt` for comparison) next to, in the same
# run, a bare ring AES-256-GCM loop over 1 MiB buffers (the ceiling: the project's AES-GCM), and
# bare aws-lc-rs loops in and out of place (the OpenSSL-family yardstick, in process, on the same
# 1 MiB buffers; replaces `openssl speed`, which timed 16 KiB encrypt calls once).
# Targets: mapped film >= 0.8x bare ring, >= 1x best bare aws-lc-rs.
# BENCH_QUICK=1: 256 MiB.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
mib=1024
if [ "${BENCH_QUICK:-0}" = 1 ]; then mib=256; fi
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg) (1/5/15 min)"
echo "targets (issue 4): film decrypt (mapped file) >= 0.80x bare ring AES-256-GCM | >= 1.00x best bare aws-lc-rs AES-256-GCM (in place of openssl speed)"
cargo run --quiet --release --locked -p tangible-crypto --example decrypt_bench -- --mib "$mib"
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg) (1/5/15 min)"
