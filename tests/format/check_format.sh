#!/usr/bin/env bash
# Fails when a C++ file breaks the repository's .clang-format. With no arguments it checks
# every tracked .cpp/.h/.cu/.cuh file; with arguments, just those files (the suite uses that
# to show that a badly formatted file is caught). Prints each offending file on one line.
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
formatter=$(command -v clang-format-14 || command -v clang-format || true)
if [ -z "$formatter" ]; then
  echo "check_format: clang-format not found; install it with: sudo apt-get install clang-format-14" >&2
  exit 2
fi
if [ $# -gt 0 ]; then
  files=("$@")
else
  mapfile -t files < <(git ls-files '*.cpp' '*.h' '*.cu' '*.cuh')
fi
# One clang-format process for all files; its diagnostics name each offending file.
offenders=$("$formatter" --style=file:"$root/.clang-format" --dry-run --Werror "${files[@]}" 2>&1 \
  | sed -n 's/^\([^:]*\):[0-9]*:[0-9]*: error: code should be clang-formatted.*/\1/p' | sort -u)
for f in $offenders; do
  echo "$f: does not follow .clang-format; run: clang-format -i $f"
done
[ -z "$offenders" ]
