// A minimal fork-join helper. Work is split into contiguous chunks, one per thread, so a
// given thread count always partitions the same way: results are deterministic per count.
#pragma once

#include <functional>

namespace cwb {

// The number of threads to use when the user asked for `requested` (0 = all cores).
int resolveThreads(int requested);

// Calls body(begin, end, worker) for `threads` contiguous slices of [0, count).
// Runs inline when threads == 1. Rethrows the first exception a worker threw.
void parallelFor(long long count, int threads,
                 const std::function<void(long long begin, long long end, int worker)>& body);

}  // namespace cwb
