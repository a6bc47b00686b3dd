#!/usr/bin/env bash
# Runs one libFuzzer target for a while, on its seeds, its saved regressions and the
# matching real fixtures, growing fuzz/corpus-work/<entry> (not in git).
#   fuzz/run.sh BUILD_DIR ENTRY SECONDS [extra libFuzzer flags...]
# Exit status 0: no finding. Otherwise the crashing input is in BUILD_DIR/fuzz-artifacts/ENTRY/;
# fix the bug and copy the input to fuzz/regressions/ENTRY/ (the CTest replay keeps it fixed).
# A one-line summary (entry, seconds, executions, exec/s, corpus, result) goes to
# BUILD_DIR/fuzz-summary.txt for bench/results/fuzz.md.
set -uo pipefail
build=$1 entry=$2 seconds=$3
shift 3
root=$(cd "$(dirname "$0")/.." && pwd)
binary=$build/fuzz/fuzz_$entry
[ -x "$binary" ] || { echo "fuzz/run.sh: $binary is missing; run make fuzz-build" >&2; exit 2; }

work=$root/fuzz/corpus-work/$entry
artifacts=$build/fuzz-artifacts/$entry
fixtures=$build/fuzz-fixtures/$entry
probes=$build/fuzz-probe-failures/$entry
mkdir -p "$work" "$artifacts" "$fixtures" "$probes"
export CWB_FUZZ_PROBE_DIR=$probes

# Real files of the entry's format join the seeds (copied, as libFuzzer skips links). Files
# over 1 MiB are left out: mutating megabytes is slow, and fuzz/seeds holds each large
# fixture's structure in kilobytes (fuzz/tools/make_seeds.cpp).
case $entry in
  keras_h5) pattern='*.h5' ;;
  keras_zip) pattern='*.keras' ;;
  safetensors) pattern='*.safetensors' ;;
  *) pattern='' ;;
esac
if [ -n "$pattern" ]; then
  find "$root/tests/fixtures/models" -maxdepth 1 -name "$pattern" -size -1025k -exec cp -u {} "$fixtures/" \;
fi

timeout=10
flags=(-max_total_time="$seconds" -timeout=$timeout -rss_limit_mb=2048 -print_final_stats=1
       -artifact_prefix="$artifacts/")
[ -f "$root/fuzz/dicts/$entry.dict" ] && flags+=(-dict="$root/fuzz/dicts/$entry.dict")

seeds=()
for dir in "$root/fuzz/seeds/$entry" "$root/fuzz/regressions/$entry" "$fixtures"; do
  [ -d "$dir" ] && [ -n "$(ls -A "$dir")" ] && seeds+=("$dir")
done

log=$build/fuzz-$entry.log
echo "fuzz/run.sh: $entry for ${seconds}s (log: $log)"
# allocator_may_return_null: HDF5 checks malloc's result; a corrupt header can make it ask
# for terabytes, which glibc refuses with NULL where ASan would abort by default.
# abort_on_error: a sanitizer report ends the process by SIGABRT rather than exit(1), so in
# the HDF5 readers' child process (core/util/child_process.h) it reads as the crash it is:
# HDF5 1.10 trusts sizes in corrupt files and hands memcpy ranges far outside its buffers,
# which the child exists to contain. Such inputs land in fuzz-probe-failures for triage
# (fuzz/triage_probe.sh), where a report in our own frames would show. Those children's
# reports and crash- files also appear in the log and the artifacts folder; the lines that
# count are the fuzzer process's own (ERROR: libFuzzer / LeakSanitizer).
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1:abort_on_error=1}
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$root/fuzz/lsan.supp:print_suppressions=0}
start=$(date +%s)
"$binary" "${flags[@]}" "$@" "$work" "${seeds[@]}" >"$log" 2>&1
status=$?
elapsed=$(( $(date +%s) - start ))

# The loop's leak suppressions are broad (see fuzz/lsan.supp); replay the corpus once with
# full stacks and only the narrow third-party suppressions.
if [ $status -eq 0 ]; then
  echo "fuzz/run.sh: replaying the corpus with full leak stacks"
  find "$work" -type f -print0 | ASAN_OPTIONS="$ASAN_OPTIONS:fast_unwind_on_malloc=0" \
    LSAN_OPTIONS="suppressions=$root/tests/sanitizer/lsan.supp:print_suppressions=0" \
    xargs -0 -n 200 "$binary" -timeout="$timeout" -rss_limit_mb=2048 >>"$log" 2>&1
  status=$?
fi

runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
corpus=$(find "$work" -type f | wc -l)
if [ $status -eq 0 ]; then result="no findings"
else result="FINDING (exit $status): $(ls -t "$artifacts" | head -1)"; fi
probed=$(find "$probes" -type f | wc -l)
[ "$probed" -gt 0 ] && result="$result; $probed inputs crashed or hung HDF5 in the reading child (in $probes)"
line="$entry | ${elapsed} s | ${runs:-?} | ${speed:-?} | $corpus | $result"
echo "$line" | tee -a "$build/fuzz-summary.txt"
if [ $status -ne 0 ]; then
  # The fuzzer process's own report; a reading child's ASan report only if there is none.
  grep -m1 -E 'ERROR: (libFuzzer|LeakSanitizer)|runtime error' "$log" >&2 ||
    grep -m1 -E 'ERROR: AddressSanitizer|SUMMARY' "$log" >&2
  # In the replay, the input that failed is the last one started and never finished.
  unfinished=$(awk '/^Running: /{f=$2} /^Executed /{if ($2==f) f=""} END{print f}' "$log")
  [ -n "$unfinished" ] && echo "fuzz/run.sh: the replay stopped on $unfinished" >&2
  echo "fuzz/run.sh: see $log; the input is in $artifacts/" >&2
fi
exit $status
