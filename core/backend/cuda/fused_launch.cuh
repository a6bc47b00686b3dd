// The host side shared by the fused pass's kernels (fused_pass.cu) and the block formats'
// (block_pass.cu): the shared-memory budget and counter copies, one launch with its counts and
// per-block sums brought back, the sums and histograms assembled, and the timing loop.
#pragma once

#include <cuda_runtime.h>

#include <algorithm>
#include <functional>
#include <vector>

#include "core/backend/cuda/cuda_jobs.h"
#include "core/backend/cuda/cuda_util.cuh"
#include "core/backend/cuda/fused_kernel.cuh"

namespace cwb::cuda {
namespace {

using KernelFn = void (*)(Params);

// A histogram's bins as the kernels take them (the scale rounded once to float32, as the CPU's).
inline Bins binsOf(const HistogramSpec& spec) {
    return {static_cast<float>(spec.lo), static_cast<float>(spec.hi),
            static_cast<float>(spec.bins / (spec.hi - spec.lo)), spec.bins};
}

// Shared memory a block may take for counters, and the multiprocessors of `device`.
struct DeviceLimits {
    std::size_t budget;
    int sms;
};
inline DeviceLimits limitsOf(int device) {
    int optin = 0, sms = 0;
    check(cudaDeviceGetAttribute(&optin, cudaDevAttrMaxSharedMemoryPerBlockOptin, device),
          "cudaDeviceGetAttribute");
    check(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device),
          "cudaDeviceGetAttribute");
    return {std::min<std::size_t>(static_cast<std::size_t>(optin), 100 * 1024), sms};
}

// The most copies of `total` counters, up to `most` (a power of two), that fit `budget` (lane
// % ways picks the copy; 32 ways: a warp never hits one bank twice); 0: global atomics.
inline int waysThatFit(int total, std::size_t budget, int most) {
    for (int w = most; w >= 1; w /= 2)
        if (static_cast<std::size_t>(total) * w * sizeof(unsigned) <= budget) return w;
    return 0;
}

struct LaunchResult {
    std::vector<unsigned long long> counts;  // p.layout.total slots
    std::vector<Partial> partials;           // one per block
};

// One launch of `kernel` over `p` with p.ways copies of the layout's counters in shared
// memory, at most `needed` blocks (no more than fill the device); `start`/`stop`, where given,
// recorded around the kernel alone. Sets p.counts and p.partials into the buffers.
inline LaunchResult launchPass(KernelFn kernel, Params& p, long long needed,
                               const DeviceLimits& limits,
                               DeviceBuffer<unsigned long long>& countsBuffer,
                               DeviceBuffer<Partial>& partialsBuffer, cudaEvent_t start,
                               cudaEvent_t stop) {
    const int total = std::max(p.layout.total, 1);
    const std::size_t shared =
        static_cast<std::size_t>(p.layout.total) * std::max(p.ways, 0) * sizeof(unsigned);
    // The budget, the most any pass takes, rather than this pass's need: passes launched from
    // several threads at once (the window's lanes) never meet another's smaller limit.
    check(cudaFuncSetAttribute(reinterpret_cast<const void*>(kernel),
                               cudaFuncAttributeMaxDynamicSharedMemorySize,
                               static_cast<int>(limits.budget)),
          "cudaFuncSetAttribute");
    int perSm = 0;
    check(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&perSm, kernel, kThreads, shared),
          "occupancy");
    const int blocks = static_cast<int>(
        std::max<long long>(1, std::min<long long>(needed, std::max(perSm, 1) * limits.sms)));
    countsBuffer.resize(total);
    partialsBuffer.resize(blocks);
    p.counts = countsBuffer.data();
    p.partials = partialsBuffer.data();
    const cudaStream_t stream = cudaStreamPerThread;
    check(cudaMemsetAsync(p.counts, 0, sizeof(unsigned long long) * total, stream), "cudaMemset");
    if (start) check(cudaEventRecord(start, stream), "cudaEventRecord");
    kernel<<<blocks, kThreads, shared, stream>>>(p);
    checkLaunch("fused pass kernel");
    if (stop) check(cudaEventRecord(stop, stream), "cudaEventRecord");
    LaunchResult r{std::vector<unsigned long long>(total), std::vector<Partial>(blocks)};
    check(cudaMemcpyAsync(r.counts.data(), p.counts, sizeof(unsigned long long) * r.counts.size(),
                          cudaMemcpyDeviceToHost, stream),
          "download counts");
    check(cudaMemcpyAsync(r.partials.data(), p.partials, sizeof(Partial) * r.partials.size(),
                          cudaMemcpyDeviceToHost, stream),
          "download sums");
    check(cudaStreamSynchronize(stream), "fused pass");
    return r;
}

// The sums and zero counts of the blocks, in block order (the same sums every run).
inline FusedResult sumsOf(const std::vector<Partial>& partials) {
    FusedResult r;
    for (const Partial& s : partials) {
        r.sumSquares += s.squares;
        r.sumSquaredError += s.errors;
        r.maxAbsError = std::max(r.maxAbsError, s.maxAbs);
        r.zeros += static_cast<std::int64_t>(s.zeros);
        r.originalZeros += static_cast<std::int64_t>(s.originalZeros);
    }
    return r;
}

// A histogram from its counters at `offset`: underflow, the bins, then with `raw` the slot the
// fast rules give values at hi (merged into the last bin), then overflow.
inline Histogram histogramAt(const HistogramSpec& spec,
                             const std::vector<unsigned long long>& counts, int offset, bool raw) {
    Histogram h(spec);
    h.underflow = counts[offset];
    for (int b = 0; b < spec.bins; ++b) h.counts[b] = counts[offset + 1 + b];
    if (raw) h.counts[spec.bins - 1] += counts[offset + spec.bins + 1];
    h.overflow = counts[offset + spec.bins + 1 + (raw ? 1 : 0)];
    return h;
}

// `run` (one pass, events around its kernel) twice as warm-up, then `repeats` times timed.
inline FusedTiming timeRepeats(int repeats,
                               const std::function<FusedResult(cudaEvent_t, cudaEvent_t)>& run) {
    cudaEvent_t start, stop;
    check(cudaEventCreate(&start), "cudaEventCreate");
    check(cudaEventCreate(&stop), "cudaEventCreate");
    FusedTiming timing;
    std::vector<double> ms;
    for (int r = -2; r < repeats; ++r) {
        timing.result = run(start, stop);
        float elapsed = 0.f;
        check(cudaEventElapsedTime(&elapsed, start, stop), "cudaEventElapsedTime");
        if (r >= 0) ms.push_back(elapsed);
    }
    cudaEventDestroy(start);
    cudaEventDestroy(stop);
    std::sort(ms.begin(), ms.end());
    timing.medianMs = ms.empty() ? 0 : ms[ms.size() / 2];
    timing.minMs = ms.empty() ? 0 : ms.front();
    return timing;
}

}  // namespace
}  // namespace cwb::cuda
