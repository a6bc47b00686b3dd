#!/usr/bin/env bash
# The scale check of issues 10 and 11: `cwb` on a 7B bf16 checkpoint (13.5 GB) on a machine
# of 24 GiB. Opens it with `cwb info` (warm page cache, and cold when run as root), then runs
# `cwb ppl --limit 1` as stored, in Q8_0, with alpha and in Q4_K, each under /usr/bin/time -v
# for its peak resident memory. Synthesizes the checkpoint (`cwb synth --shape llama7b`)
# when the folder is absent. Prints Markdown for bench/results/llm_scale.md.
#   bench/llm_scale.sh CHECKPOINT_DIR [BUILD_DIR] [THREADS]
#   e.g. bench/llm_scale.sh /work/scratch/llama7b build 2
# Set COLD=0 to skip dropping the page cache (it slows everyone on the machine for a while).
set -euo pipefail
dir=${1:?usage: bench/llm_scale.sh CHECKPOINT_DIR [BUILD_DIR] [THREADS]}
build=${2:-build}
threads=${3:-2}
cwb=$build/app/cwb
[ -x "$cwb" ] || { echo "bench/llm_scale.sh: $cwb is missing; build the target cwb" >&2; exit 2; }
log=$(mktemp -d)
trap 'rm -rf "$log"' EXIT

load() { cut -d' ' -f1-3 /proc/loadavg; }
# Runs a command under /usr/bin/time -v; prints "wall s | CPU s | peak RSS MiB" and keeps its
# output in $log/out.
timed() {
  /usr/bin/time -v "$@" >"$log/out" 2>"$log/err" || { cat "$log/err" >&2; return 1; }
  awk -F': ' '
    /Elapsed \(wall clock\)/ { n = split($2, p, ":"); wall = (n == 3 ? p[1] * 3600 + p[2] * 60 + p[3] : p[1] * 60 + p[2]) }
    /User time/ { cpu += $2 } /System time/ { cpu += $2 }
    /Maximum resident set size/ { rss = $2 / 1024 }
    END { printf "%.2f | %.1f | %.0f", wall, cpu, rss }' "$log/err"
}

if [ ! -d "$dir" ]; then
  echo "synthesizing $dir (load $(load))" >&2
  echo "synth: $(timed "$cwb" synth --shape llama7b -o "$dir") (wall s | CPU s | peak RSS MiB), load $(load)"
fi
bytes=$(du -sb --apparent-size "$dir" | cut -f1)

echo "# cwb on a 7B checkpoint"
echo
echo "- Machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) cores, $(awk '/MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo)"
echo "- Checkpoint: $dir, $(awk -v b="$bytes" 'BEGIN {printf "%.2f GB", b / 1e9}') ($(ls "$dir" | grep -c '\.safetensors$') safetensors files, bf16)"
echo "- Threads: $threads; load average at the start: $(load)"
echo
echo "| step | wall s | CPU s | peak RSS MiB | load | result |"
echo "|---|---|---|---|---|---|"
for run in 1 2 3; do
  echo "| cwb info, warm page cache (run $run) | $(timed "$cwb" info "$dir") | $(load) | $(awk '/^tensors:/ {print $2}' "$log/out") tensors |"
done
if [ "${COLD:-1}" = 1 ] && [ "$(id -u)" = 0 ]; then
  sync
  echo 3 >/proc/sys/vm/drop_caches
  "$cwb" --help >/dev/null  # the program's own libraries back in the cache: time the checkpoint
  echo "| cwb info, cold page cache (libraries warm) | $(timed "$cwb" info "$dir") | $(load) | $(awk '/^tensors:/ {print $2}' "$log/out") tensors |"
fi
for args in "" "--format Q8_0" "--alpha 0.002" "--format Q4_K"; do
  # shellcheck disable=SC2086
  row=$(timed "$cwb" ppl "$dir" --limit 1 --threads "$threads" $args)
  result=$(grep -m1 '^perplexity' "$log/out" | cut -d'(' -f1)
  extra=$(grep -m1 '^compressed' "$log/err" | sed 's/^compressed [0-9]* tensors ([^)]*): //' || true)
  echo "| cwb ppl --limit 1 ${args:-(bf16 as stored)} | $row | $(load) | $result${extra:+; $extra} |"
done
