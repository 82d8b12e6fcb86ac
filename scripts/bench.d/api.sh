#!/usr/bin/env bash
# API load benchmark: a durable private PostgreSQL holding 100,000 films (two editions each) and
# 1,000,000 licences (generated inside PostgreSQL with generate_series into the mirror tables;
# the cluster and its files are removed at the end), anvil --block-time 1,
# localstripe, the API in-process on 2 runtime threads, and an open-loop load generator at a
# fixed rate (latency from each request's scheduled start, HDR histogram).
# Key release runs warm (64 licences of one edition) and cold (one request per edition over
# 2,000 editions, each sealed key read for the first time). Failed or timed-out webhook rounds
# are counted as failures.
# Targets: catalogue list/detail p99 ≤ 10 ms at 1,000 req/s; key release p99 ≤ 25 ms;
# paid webhook → fulfilled ≤ one block + 1 s.
# BENCH_QUICK=1: 10,000 films, 100,000 licences, 5 s phases, 5 webhook rounds, 500 cold editions.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
export PATH="$root/.tools/bin:$PATH"
args=(--films 100000 --licences 1000000 --rate 1000 --secs 20 --webhook-rounds 20 --cold-editions 2000)
if [ "${BENCH_QUICK:-0}" = 1 ]; then
  args=(--films 10000 --licences 100000 --rate 1000 --secs 5 --webhook-rounds 5 --cold-editions 500)
fi
echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ); load before: $(cut -d' ' -f1-3 /proc/loadavg) (1/5/15 min); disk: $(df -h --output=avail "${TMPDIR:-/tmp}" | tail -1 | tr -d ' ') free"
echo "targets: catalogue list/detail p99 ≤ 10 ms at 1000 req/s; key release p99 ≤ 25 ms; webhook → fulfilled ≤ 1 block + 1 s"
cargo run --quiet --release --locked -p tangible-api --example load_bench -- "${args[@]}"
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg) (1/5/15 min)"
