#!/usr/bin/env bash
# Bounded fuzzing of the untrusted-input decoders of tangible-crypto: the film file format
# (a downloaded file is attacker-controlled) and the offline licence certificate.
# FUZZ_SECONDS per target (default 60). cargo-fuzz needs nightly features; RUSTC_BOOTSTRAP=1
# lets the machine's stable toolchain build them (no other toolchain can be fetched here).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
seconds="${FUZZ_SECONDS:-60}"
CARGO_FUZZ_VERSION=0.13.2

# cargo-fuzz, installed into the project's .tools (idempotent).
fuzz_bin="$root/.tools/cargo/bin/cargo-fuzz"
if [ ! -x "$fuzz_bin" ] || ! "$fuzz_bin" --version | grep -q "$CARGO_FUZZ_VERSION"; then
  echo "fuzz: installing cargo-fuzz $CARGO_FUZZ_VERSION into .tools/cargo" >&2
  cargo install --quiet --locked --root "$root/.tools/cargo" cargo-fuzz --version "$CARGO_FUZZ_VERSION"
fi
export PATH="$root/.tools/cargo/bin:$PATH"

cd "$root/crates/crypto/fuzz"
target_dir="${CARGO_TARGET_DIR:-$root/target}/fuzz"
for t in film_decode certificate_parse; do
  echo "== fuzz crypto/$t for ${seconds}s"
  mkdir -p "corpus/$t"
  log="$(mktemp)"
  status=0
  RUSTC_BOOTSTRAP=1 CARGO_TARGET_DIR="$target_dir" cargo fuzz run -O "$t" "corpus/$t" -- \
    -max_total_time="$seconds" -print_final_stats=1 >"$log" 2>&1 || status=$?
  grep -E "^(Done|stat::number_of_executed_units|stat::average_exec_per_sec|SUMMARY|Test unit written)" "$log" || true
  if [ "$status" != 0 ]; then
    # libFuzzer exits non-zero on a crash, writing the input under artifacts/; or the build failed.
    tail -n 40 "$log" >&2
    echo "fuzz: $t failed (exit $status); failing inputs, if any, are in crates/crypto/fuzz/artifacts/$t" >&2
    rm -f "$log"
    exit 1
  fi
  rm -f "$log"
done
