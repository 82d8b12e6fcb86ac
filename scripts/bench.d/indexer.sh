#!/usr/bin/env bash
# Indexer (issue 3): a chain of >= 100,000 Tangible events produced on anvil, then a cold
# backfill into a private PostgreSQL (durable settings); the database write path alone; in the
# same run, two ceilings: a raw binary COPY of the raw-log rows (1 per event) into an unindexed
# table, and a raw binary COPY of every row the write path writes (raw log + derived tables +
# checkpoint, ~1.67 per event) into unindexed tables of the same column types, on one connection
# and as two concurrent COPYs (the like-for-like yardstick of a two-connection write path);
# head-follow latency at one block per second, at the shipped defaults (2 confirmations, 200 ms
# poll) and at 0 confirmations / 50 ms; reorgs of depth 1 and 8 on the whole mirror (time, and rows at
# or below the fork rewritten, which must be 0). Targets: end to end >= 30,000 events/s, write path >= 50 %
# of the raw COPY, latency <= 1 block + 200 ms (at 0 confirmations; the shipped 2 add two blocks).
# BENCH_QUICK=1: 30,000 events (below the issue's 100,000: a smoke run, not the figure).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
events=100000
if [ "${BENCH_QUICK:-0}" = 1 ]; then events=30000; fi
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); load before: $(cut -d' ' -f1-3 /proc/loadavg) (1/5/15 min)"
echo "targets (issue 3): end to end >= 30000 events/s | write path >= 50 % of raw COPY | head-follow <= 1 block + 200 ms at 0 confirmations (the shipped default of 2 adds two blocks)"
cargo build --quiet --release --locked -p tangible-indexer --example bench
BENCH_EVENTS="$events" cargo run --quiet --release --locked -p tangible-indexer --example bench
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg) (1/5/15 min)"
