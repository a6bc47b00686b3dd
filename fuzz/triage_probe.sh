#!/usr/bin/env bash
# Shows why the reading child process failed on inputs that fuzz/run.sh kept in
# BUILD_DIR/fuzz-probe-failures/ENTRY, with a verdict: "HDF5" when the failure is inside
# libhdf5 (third-party, which the child exists to contain), "OURS" otherwise (a bug to fix).
#  - a sanitizer report printed by the child is read directly;
#  - a plain crash (no report: the child restores default signal handlers) is rerun under
#    gdb following the fork;
#  - a hang (the run outlasts the child's 1 s cap) is rerun with the cap lifted and the
#    child's stack taken with gdb after 5 s.
#   fuzz/triage_probe.sh BUILD_DIR ENTRY FILE...
set -uo pipefail
build=$1 entry=$2
shift 2
binary=$build/fuzz/fuzz_$entry
options=allocator_may_return_null=1:detect_leaks=0:abort_on_error=1
sanitizerFrame=' in (__interceptor_|__asan|__sanitizer|__ubsan|__lsan|malloc|calloc|realloc|free|operator new|operator delete)'
for file in "$@"; do
  start=$(date +%s%N)
  output=$(ASAN_OPTIONS=$options timeout 300 "$binary" "$file" 2>&1)
  millis=$(( ($(date +%s%N) - start) / 1000000 ))
  report=$(echo "$output" | sed -n '/ERROR: AddressSanitizer\|runtime error/,/SUMMARY/p')
  if [ -n "$report" ]; then
    kind=$(echo "$report" | head -1 | sed 's/^==[0-9]*==//' | cut -c1-110)
    trace=$(echo "$report" | grep -E '^ *#[0-9]+ ' | head -12)
    top=$(echo "$trace" | grep -vE "$sanitizerFrame" | head -1)
  elif [ "$millis" -lt 900 ]; then
    kind="crash"
    trace=$(ASAN_OPTIONS=$options timeout 300 gdb -q -batch -ex 'set follow-fork-mode child' \
      -ex 'set detach-on-fork on' -ex run -ex bt --args "$binary" "$file" 2>&1 | grep -E '^#[0-9]+ ' | head -12)
    top=$(echo "$trace" | grep -m1 -E ' in [A-Za-z_]|from ')
  else
    kind="hang"
    CWB_FUZZ_PROBE_TIMEOUT_S=1000 ASAN_OPTIONS=$options "$binary" "$file" >/dev/null 2>&1 &
    parent=$!
    sleep 5
    child=$(pgrep -P "$parent" | head -1)
    trace=""
    [ -n "$child" ] && trace=$(timeout 120 gdb -q -batch -p "$child" -ex bt 2>/dev/null | grep -E '^#[0-9]+ ' | head -12)
    kill "$parent" ${child:+"$child"} 2>/dev/null
    wait "$parent" 2>/dev/null
    top=$(echo "$trace" | grep -m1 -E ' in [A-Za-z_]|from ')
  fi
  if echo "$top" | grep -q 'libhdf5'; then verdict=HDF5; else verdict=OURS; fi
  echo "== $verdict ($kind) $file"
  echo "$trace"
done
