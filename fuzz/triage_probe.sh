#!/usr/bin/env bash
# Shows where the probe child crashed or hung on inputs that fuzz/run.sh kept in
# BUILD_DIR/fuzz-probe-failures/ENTRY: the backtrace of the child (gdb follows the fork),
# and a verdict: "HDF5" when the innermost named frame is in libhdf5 (third-party, which
# the probe exists to contain), "OURS" otherwise (a bug to fix).
#   fuzz/triage_probe.sh BUILD_DIR ENTRY FILE...
set -uo pipefail
build=$1 entry=$2
shift 2
binary=$build/fuzz/fuzz_$entry
for file in "$@"; do
  # A hang is interrupted after 8 s; the probe's own timeout is lifted so it cannot kill
  # the child first.
  trace=$(CWB_FUZZ_PROBE_TIMEOUT_S=1000 ASAN_OPTIONS=allocator_may_return_null=1:detect_leaks=0 \
    timeout -s INT 8 gdb -q -batch -ex 'set follow-fork-mode child' -ex 'set detach-on-fork on' \
    -ex run -ex bt --args "$binary" "$file" 2>&1 | grep -E '^#[0-9]+ ')
  top=$(echo "$trace" | grep -m1 -E ' in [A-Za-z_]|from ' )
  if echo "$top" | grep -q 'libhdf5'; then verdict=HDF5; else verdict=OURS; fi
  echo "== $verdict $file"
  echo "$trace" | head -12
done
