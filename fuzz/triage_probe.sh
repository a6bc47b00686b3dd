#!/usr/bin/env bash
# Shows why the probe child failed on inputs that fuzz/run.sh kept in
# BUILD_DIR/fuzz-probe-failures/ENTRY, with a verdict: "HDF5" when the failure is inside
# libhdf5 (third-party, which the probe exists to contain), "OURS" otherwise (a bug to fix).
# A sanitizer report printed by the child is read directly; a plain crash or hang gets a
# backtrace from gdb following the fork (a hang is interrupted after 8 s).
#   fuzz/triage_probe.sh BUILD_DIR ENTRY FILE...
set -uo pipefail
build=$1 entry=$2
shift 2
binary=$build/fuzz/fuzz_$entry
sanitizerFrame=' in (__interceptor_|__asan|__sanitizer|__ubsan|__lsan|malloc|calloc|realloc|free|operator new|operator delete)'
for file in "$@"; do
  report=$(ASAN_OPTIONS=allocator_may_return_null=1:detect_leaks=0:abort_on_error=1 \
    timeout 20 "$binary" "$file" 2>&1 | sed -n '/ERROR: AddressSanitizer\|runtime error/,/SUMMARY/p' | head -40)
  if [ -n "$report" ]; then
    trace=$(echo "$report" | grep -E '^ *#[0-9]+ ' | head -12)
    top=$(echo "$trace" | grep -vE "$sanitizerFrame" | head -1)
    echo "$report" | head -1
  else
    # The probe's own timeout is lifted so it cannot kill the child before gdb looks.
    trace=$(CWB_FUZZ_PROBE_TIMEOUT_S=1000 ASAN_OPTIONS=allocator_may_return_null=1:detect_leaks=0 \
      timeout -s INT 8 gdb -q -batch -ex 'set follow-fork-mode child' -ex 'set detach-on-fork on' \
      -ex run -ex bt --args "$binary" "$file" 2>&1 | grep -E '^#[0-9]+ ' | head -12)
    top=$(echo "$trace" | grep -m1 -E ' in [A-Za-z_]|from ')
  fi
  if echo "$top" | grep -q 'libhdf5'; then verdict=HDF5; else verdict=OURS; fi
  echo "== $verdict $file"
  echo "$trace"
done
