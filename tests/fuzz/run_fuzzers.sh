#!/usr/bin/env bash
# Runs every libFuzzer target of BUILD (default build-fuzz) for SECONDS each (default 60), with
# its seed corpus, and writes BUILD/fuzz-report.txt: inputs tried and corpus size per target.
# Exits non-zero if any target crashed, leaked, hung or threw an undocumented exception; the
# input is left in BUILD/fuzz-artifacts/<target>/ (add it to tests/fuzz/regressions/<target>/ and
# a test to tests/run/test_fuzz_regressions.cpp once fixed).
#   [FUZZ_SEED=N] [FUZZ_TARGETS="scenario census ensemble checkpoint"] tests/fuzz/run_fuzzers.sh [BUILD] [SECONDS]
set -uo pipefail
cd "$(dirname "$0")/../.."
build=${1:-build-fuzz}
seconds=${2:-60}
fuzz=tests/fuzz
report=$build/fuzz-report.txt

# Seeds per target (read only); new interesting inputs go to $build/fuzz-corpus/<target>, the
# first directory given to libFuzzer. Regression inputs are seeds too: they must stay fixed.
seeds_scenario="scenarios $fuzz/corpus/scenario"
seeds_census="$fuzz/corpus/census scenarios/data"
seeds_ensemble="scenarios/ensembles $fuzz/corpus/ensemble"
seeds_checkpoint="$build/fuzz-seeds/checkpoint"
dict_scenario=$fuzz/toml.dict
dict_ensemble=$fuzz/toml.dict
# Checkpoints carry a whole-file seal checked before libhdf5 parses them (core/seal.hpp): libhdf5
# 1.10.8 loops forever or crashes on some damaged files (tests/fuzz/regressions/checkpoint/hdf5_*).
# FUZZ_SEED (optional) fixes libFuzzer's seed so that a run can be replayed.
seed_opt=()
[ -n "${FUZZ_SEED:-}" ] && seed_opt=(-seed="$FUZZ_SEED")

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=0}
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$PWD/$fuzz/lsan.supp}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export HDF5_USE_FILE_LOCKING=FALSE
# Stack traces with function names and lines (any llvm-symbolizer reads clang 19's DWARF).
ASAN_SYMBOLIZER_PATH=${ASAN_SYMBOLIZER_PATH:-$(command -v llvm-symbolizer-19 || command -v llvm-symbolizer || true)}
export ASAN_SYMBOLIZER_PATH

printf '%-12s %10s %8s %8s %9s  %s\n' target inputs corpus seconds timeouts result > "$report"
failed=0
for target in ${FUZZ_TARGETS:-scenario census ensemble checkpoint}; do
  corpus=$build/fuzz-corpus/$target
  artifacts=$build/fuzz-artifacts/$target
  log=$build/fuzz-$target.log
  mkdir -p "$corpus" "$artifacts" "$fuzz/regressions/$target"
  seeds_var=seeds_$target dict_var=dict_$target
  dict_opt=()
  [ -n "${!dict_var:-}" ] && dict_opt=(-dict="${!dict_var}")
  rm -f "$artifacts"/timeout-*
  echo "== fuzz_$target for ${seconds}s (log: $log)"
  # -timeout: one input taking longer is a hang; -rss_limit_mb: the default 2 GB, stated. Inputs
  # up to 128 KiB: the checkpoint seed is ~110 KiB, scenario files a few KiB.
  # shellcheck disable=SC2086
  "$build/tests/fuzz/fuzz_$target" "$corpus" ${!seeds_var} "$fuzz/regressions/$target" "${dict_opt[@]}" "${seed_opt[@]}" \
    -max_total_time="$seconds" -timeout=30 -rss_limit_mb=2048 -max_len=131072 -print_final_stats=1 \
    -artifact_prefix="$artifacts/" > "$log" 2>&1
  status=$?
  inputs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  size=$(find "$corpus" -type f | wc -l)
  timeouts=$(find "$artifacts" -name 'timeout-*' | wc -l)
  result=ok
  if [ "$status" -ne 0 ]; then
    result="FAILED (exit $status; see $log, input in $artifacts/)"
    failed=1
    grep -E "ERROR: |SUMMARY: |fuzz: |runtime error" "$log" | head -5
  fi
  printf '%-12s %10s %8s %8s %9s  %s\n' "$target" "${inputs:-?}" "$size" "$seconds" "$timeouts" "$result" | tee -a "$report"
done
echo "Report: $report"
exit $failed
