#!/usr/bin/env bash
# Bounded fuzzing of the decoders (cargo-fuzz / libFuzzer, FUZZ_SECONDS per target, default 60) and
# invariant campaigns of the market with random seeds (FUZZ_INVARIANT_CAMPAIGNS, default 3).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
for f in $(ls scripts/fuzz.d/*.sh 2>/dev/null); do
  bash "$f"
done
