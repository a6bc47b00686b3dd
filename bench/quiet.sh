#!/bin/bash
# Runs a benchmark command in a session of its own whose scheduler group has nice -20, so that
# on the shared 2-core VM the builds of other sessions (each its own autogroup, which makes a
# plain `nice` useless against them) take little of the two cores while it runs; the other
# sessions still run, only slower, for as long as the command takes. For same-run comparisons
# (cwb against llama-bench) both programs run inside it and get the same priority: under the
# usual load of 5-8, llama-bench's spinning OpenMP barriers fall to 1/10 of their speed and the
# ratios would say nothing about the kernels.
#   bench/quiet.sh COMMAND [ARGS...]
#   e.g. LLAMA_CPP_BIN=/tmp/llama.cpp/build/bin bench/quiet.sh build/bench/llm_bench \
#            --tinyllama-dir /tmp/llmspeed/tinyllama
exec setsid bash -c 'echo -20 > /proc/self/autogroup && exec "$@"' quiet "$@"
