#!/usr/bin/env bash
# Invariant campaigns of the market with random seeds (make test runs one fixed seed, INVARIANT_SEED):
# FUZZ_INVARIANT_CAMPAIGNS campaigns (default 3) of 10 runs x 2,048 calls each. A campaign fails on a broken
# invariant or on a run whose successes of one action fall under its coverage floor; the seed of each
# campaign is printed so a failure can be replayed with `forge test --match-path 'test/invariant/*'
# --fuzz-seed SEED -vv`.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
forge="${FORGE:-$root/.tools/bin/forge}"
campaigns="${FUZZ_INVARIANT_CAMPAIGNS:-3}"
failed=0
cd "$root/contracts"
for ((i = 1; i <= campaigns; i++)); do
  seed="0x$(od -An -N8 -tx8 /dev/urandom | tr -d ' \n')"
  if "$forge" test --match-path 'test/invariant/*' --fuzz-seed "$seed" >/tmp/tangible-invariants.$$.log 2>&1; then
    echo "invariants: campaign $i/$campaigns seed $seed passed"
  else
    echo "invariants: campaign $i/$campaigns seed $seed FAILED: $(grep -o '\[FAIL: [^]]*\]' /tmp/tangible-invariants.$$.log | head -1)"
    failed=$((failed + 1))
  fi
done
rm -f /tmp/tangible-invariants.$$.log
echo "invariants: $failed of $campaigns random-seed campaigns failed"
[[ $failed -eq 0 ]]
