#!/usr/bin/env bash
# Mutation testing of the contracts against the invariant suite only (test/invariant/*).
#
# Each mutant is a sed script in scripts/mutants.d/ (one file per mutant; its first line says what it
# breaks, a "# file: src/..." line names the source it patches). For every mutant the script patches a
# scratch copy of contracts/ (never the real sources), runs `forge test --match-path 'test/invariant/*'`,
# and records "killed" (the suite failed, with the failing assertion) or "survived" (it passed). The
# unmutated copy runs first and must pass. Prints one line per mutant and the kill rate; exits 1 if any
# mutant survives, does not apply or does not compile.
#
# Usage: scripts/mutants.sh [NAME-PATTERN...]   e.g. scripts/mutants.sh 'M0[4-9]*' 'M1[01]*'
# Env:   MUTANT_JOBS  parallel workers (default 2; each runs one single-threaded forge at a time)
#        INVARIANT_SEED  the campaign's fuzz seed (make passes its own; unset: random)
#        FORGE        forge binary (default .tools/bin/forge)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
forge="${FORGE:-$root/.tools/bin/forge}"
jobs="${MUTANT_JOBS:-2}"
patterns=("${@:-*}")
mutants_dir="$root/scripts/mutants.d"

[[ -x "$forge" ]] || { echo "mutants: forge not found at $forge (run make tools)" >&2; exit 2; }
mapfile -t mutants < <(cd "$mutants_dir" && for p in "${patterns[@]}"; do ls -1 $p.sed 2>/dev/null; done | sed 's/\.sed$//' | sort -u)
(( ${#mutants[@]} > 0 )) || { echo "mutants: no mutant matches '${patterns[*]}' in $mutants_dir" >&2; exit 2; }

work="$(mktemp -d "${TMPDIR:-/tmp}/tangible-mutants.XXXXXX")"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/results"

# A scratch copy of what the invariant suite needs; the toolchain is linked (foundry.toml points at
# ../.tools), the sources are copied.
make_copy() {
  local dir="$1"
  mkdir -p "$dir/contracts/test"
  ln -s "$root/.tools" "$dir/.tools"
  cp -r "$root/contracts/src" "$root/contracts/foundry.toml" "$dir/contracts/"
  # The whole test folder: the fuzzer draws values from the compiled code, so the campaign of a fixed
  # seed is the one `make test` runs only when the same files are compiled.
  cp -r "$root/contracts/test/." "$dir/contracts/test/"
}

# Runs the invariant suite in $1/contracts; output in $2. No shrinking (a kill needs no minimal sequence)
# no replay of an earlier mutant's recorded failure, and no lint pass (it adds ~5 s to each build).
run_suite() {
  local dir="$1" log="$2"
  rm -rf "$dir/contracts/cache/invariant"
  (cd "$dir/contracts" && FOUNDRY_INVARIANT_SHRINK_RUN_LIMIT=0 FOUNDRY_LINT_LINT_ON_BUILD=false \
    "$forge" test --match-path 'test/invariant/*' ${INVARIANT_SEED:+--fuzz-seed "$INVARIANT_SEED"} >"$log" 2>&1)
}

# The reason a killed run gave: the first "[FAIL: ...]" message.
fail_reason() {
  grep -o '\[FAIL: [^]]*\]' "$1" | head -1 | sed 's/^\[FAIL: //; s/\]$//' | cut -c1-110
}

worker() {
  local w="$1" dir="$work/w$1"
  cp -a "$work/base" "$dir" # built by the baseline: each mutant recompiles only what depends on its file
  local i
  for ((i = w; i < ${#mutants[@]}; i += jobs)); do
    local m="${mutants[$i]}" spec="$mutants_dir/${mutants[$i]}.sed"
    local file start status reason
    file="$(sed -n 's/^# file: *//p' "$spec" | head -1)"
    file="${file:-src/TangibleMarket.sol}"
    start=$SECONDS
    rm -rf "$dir/contracts/src" && cp -r "$root/contracts/src" "$dir/contracts/src"
    sed -i -f "$spec" "$dir/contracts/$file"
    if cmp -s "$root/contracts/$file" "$dir/contracts/$file"; then
      status="error"; reason="the patch did not change $file"
    elif run_suite "$dir" "$work/results/$m.log"; then
      status="survived"; reason=""
    elif grep -q 'Compiler run failed' "$work/results/$m.log"; then
      status="error"; reason="does not compile"
    else
      status="killed"; reason="$(fail_reason "$work/results/$m.log")"
    fi
    printf '%s\t%s\t%s\t%s\n' "$m" "$status" "$((SECONDS - start))" "$reason" >"$work/results/$m.tsv"
    printf '  %-40s %-8s %4ss\n' "$m" "$status" "$((SECONDS - start))"
  done
}

began=$SECONDS
echo "mutants: baseline (unmutated copy) ..."
make_copy "$work/base"
if ! run_suite "$work/base" "$work/base.log"; then
  echo "mutants: the invariant suite fails without any mutant; fix that first:" >&2
  grep -E 'FAIL|Error' "$work/base.log" | head -20 >&2
  exit 1
fi
echo "mutants: baseline passed in $((SECONDS - began)) s; ${#mutants[@]} mutants, $jobs worker(s)"

pids=()
for ((w = 0; w < jobs && w < ${#mutants[@]}; w++)); do
  worker "$w" &
  pids+=($!)
done
for p in "${pids[@]}"; do wait "$p"; done

echo
printf '%-40s %-8s %5s  %s\n' "mutant" "result" "time" "killed by"
killed=0 total=0 bad=0
for m in "${mutants[@]}"; do
  IFS=$'\t' read -r name status secs reason <"$work/results/$m.tsv"
  printf '%-40s %-8s %4ss  %s\n' "$name" "$status" "$secs" "$reason"
  total=$((total + 1))
  if [[ "$status" == killed ]]; then killed=$((killed + 1)); else bad=$((bad + 1)); fi
done
echo
echo "mutants: killed $killed of $total ($((100 * killed / total)) %) in $((SECONDS - began)) s"
if ((bad > 0)); then
  echo "mutants: $bad mutant(s) not killed" >&2
  exit 1
fi
