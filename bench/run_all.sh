#!/usr/bin/env bash
# Runs every benchmark built in BUILD_DIR/bench, one after another (never in parallel: they
# time the machine). Run it on an idle machine; each benchmark prints the load average it saw.
#   bench/run_all.sh [BUILD_DIR] [NAME...]     e.g. bench/run_all.sh build eval_bench
set -uo pipefail
build=${1:-build}
shift || true
root=$(cd "$(dirname "$0")/.." && pwd)
names=("$@")
if [ ${#names[@]} -eq 0 ]; then
  for binary in "$build"/bench/*_bench; do [ -x "$binary" ] && names+=("$(basename "$binary")"); done
fi
[ ${#names[@]} -gt 0 ] || { echo "bench/run_all.sh: no benchmarks in $build/bench; run make build" >&2; exit 2; }

status=0
for name in "${names[@]}"; do
  echo "=== $name (load average $(cut -d' ' -f1-3 /proc/loadavg))"
  # The window benchmark draws offscreen; the others ignore the variable.
  (cd "$root" && QT_QPA_PLATFORM=offscreen "$build/bench/$name") || { echo "=== $name FAILED"; status=1; }
done
exit $status
