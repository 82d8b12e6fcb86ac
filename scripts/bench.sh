#!/usr/bin/env bash
# Every benchmark of the project, in sequence. Each prints what it measured and on what machine.
# Long-running: not part of `make test`. BENCH_QUICK=1 runs reduced sizes.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
export PATH="$root/.tools/bin:$PATH"

echo "== machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"

echo "== contracts: gas of the four named benchmarks (forge snapshot, same run)"
(cd contracts && forge test --match-test test_gas --summary | grep -E "test_gas|passed")

for bench in $(ls scripts/bench.d/*.sh 2>/dev/null); do
  echo "== $(basename "$bench" .sh)"
  bash "$bench"
done
