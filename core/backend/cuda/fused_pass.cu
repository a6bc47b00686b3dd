// The fused compression pass on a GPU (see core/compress/fused_pass.h): one kernel per tensor
// reads each weight once, writes its value, and counts histograms and codes in shared memory.
// Values, codes and histogram slots use the CPU kernels' float32 operations in the same
// order (this file is built with -fmad=false, so nothing is contracted), hence the same bits;
// sums are per thread and per block in a fixed order, so they agree with the CPU's to float32
// rounding and are the same from run to run.
#include <cuda_runtime.h>

#include <algorithm>
#include <cstdint>
#include <vector>

#include "core/backend/cuda/cuda_jobs.h"
#include "core/backend/cuda/cuda_util.cuh"
#include "core/compress/quant_types.h"

namespace cwb::cuda {
namespace {

constexpr int kThreads = 512;
constexpr int kUnroll = 4;  // float4 loads in flight per thread

enum UnitMode { kTensor = 0, kChannel = 1, kGroup = 2 };

struct Bins {
    float lo, hi, scale;
    int bins;
};

struct Partial {
    double squares, errors, maxAbs;
    unsigned long long zeros, originalZeros;
};

// Offsets of the four counter arrays (in slots).
struct Layout {
    int original, compressed, error, codes, total;
};
inline Layout layoutOf(int weightBins, int errorBins, int codeSpan) {
    Layout l;
    l.original = 0;
    l.compressed = weightBins + 2;
    l.error = 2 * (weightBins + 2);
    l.codes = l.error + errorBins + 2;
    l.total = l.codes + codeSpan;
    return l;
}

struct Params {
    const float* in;
    float* out;                // nullptr: statistics only
    const std::uint8_t* keep;  // Explicit
    const float* steps;        // Affine: per unit
    const float* zeroPoints;
    long long n, cols;
    int groupSize, unitMode;
    float rho, alpha, qmin, qmax;
    Bins weights, errors;
    float codeBase, codeTop;
    int codeSpan;
    bool histograms, countCompressed, countCodes;
    int ways;                    // shared counters per slot (lane % ways); 0: global atomics
    Layout layout;               // of `counts`
    unsigned long long* counts;  // original, compressed, error slots, then codes
    Partial* partials;           // one per block
};

// ---- the element rules: core/compress/quantize.h and fused_kernels.h's *Ref kernels ----

__device__ inline float roundHalfAway(float x) {
    const float t = truncf(x);
    return fabsf(__fsub_rn(x, t)) >= 0.5f ? __fadd_rn(t, copysignf(1.f, x)) : t;
}

__device__ inline int slotOf(float value, const Bins& b) {
    float x = __fmul_rn(__fsub_rn(value, b.lo), b.scale);
    x = x > 0.f ? x : 0.f;
    const float top = static_cast<float>(b.bins - 1);
    x = x < top ? x : top;
    const int inside = 1 + static_cast<int>(x);
    return value < b.lo ? 0 : (value <= b.hi ? inside : b.bins + 1);
}

struct Accumulator {
    double squares = 0, errors = 0;
    float maxAbs = 0;
    unsigned zeros = 0, originalZeros = 0;
};

struct Counter {
    unsigned* shared;
    const Params* p;
    int lane;

    __device__ void add(int slot) const {
        if (p->ways > 0)
            atomicAdd(&shared[slot * p->ways + (lane & (p->ways - 1))], 1u);
        else
            atomicAdd(&p->counts[slot], 1ull);
    }
};

// One weight: its value and code (as valuesRef), its counts; returns the value.
template <QuantKind Q, KeepRule::Kind K>
__device__ inline float element(const Params& p, float w, bool keepByte, float step, float zp,
                                const Layout& l, const Counter& c) {
    bool keep = true;
    if constexpr (K == KeepRule::Kind::Threshold) keep = fabsf(w) >= p.rho;
    if constexpr (K == KeepRule::Kind::Textbook) keep = w >= p.rho;
    if constexpr (K == KeepRule::Kind::Explicit) keep = keepByte;
    float v = w, code = 0.f;
    if constexpr (Q == QuantKind::Uniform) {
        code = roundHalfAway(__fdiv_rn(w, p.alpha));
        v = __fmul_rn(code, p.alpha);
    }
    if constexpr (Q == QuantKind::Affine) {
        float q = __fadd_rn(roundHalfAway(__fdiv_rn(w, step)), zp);
        q = q > p.qmin ? q : p.qmin;
        q = q < p.qmax ? q : p.qmax;
        code = step == 0.f ? 0.f : __fsub_rn(q, zp);
        v = __fmul_rn(code, step);
    }
    v = keep ? v : 0.f;
    code = keep ? code : 0.f;
    if (p.histograms) {
        c.add(l.original + slotOf(w, p.weights));
        c.add(l.error + slotOf(__fsub_rn(v, w), p.errors));
        if (p.countCompressed) c.add(l.compressed + slotOf(v, p.weights));
    }
    if (p.countCodes) {
        float x = __fsub_rn(code, p.codeBase);
        x = x > 0.f ? x : 0.f;
        x = x < p.codeTop ? x : p.codeTop;
        c.add(l.codes + static_cast<int>(x));
    }
    return v;
}

__device__ inline void accumulate(Accumulator& a, const float (&w)[4], const float (&v)[4],
                                  int count) {
    float sq = 0.f, se = 0.f;
    for (int j = 0; j < 4; ++j) {
        if (j >= count) break;
        const float d = __fsub_rn(v[j], w[j]);
        sq = fmaf(w[j], w[j], sq);
        se = fmaf(d, d, se);
        a.maxAbs = fmaxf(a.maxAbs, fabsf(d));
        a.zeros += v[j] == 0.f;
        a.originalZeros += w[j] == 0.f;
    }
    a.squares += static_cast<double>(sq);
    a.errors += static_cast<double>(se);
}

__device__ inline long long unitOf(const Params& p, long long i) {
    const long long r = i / p.cols, col = i - r * p.cols;
    return p.unitMode == kChannel ? col : (r / p.groupSize) * p.cols + col;
}

template <QuantKind Q, KeepRule::Kind K, bool PerUnit>
__global__ void __launch_bounds__(kThreads) fusedKernel(Params p) {
    extern __shared__ unsigned sharedCounts[];
    const Layout l = p.layout;
    const Counter counter{sharedCounts, &p, static_cast<int>(threadIdx.x & 31)};
    if (p.ways > 0)
        for (int s = threadIdx.x; s < l.total * p.ways; s += blockDim.x) sharedCounts[s] = 0;
    __syncthreads();

    Accumulator acc;
    const long long stride = static_cast<long long>(gridDim.x) * blockDim.x;
    const long long first = static_cast<long long>(blockIdx.x) * blockDim.x + threadIdx.x;
    float step = Q == QuantKind::Affine && !PerUnit ? p.steps[0] : 0.f;
    float zp = Q == QuantKind::Affine && !PerUnit ? p.zeroPoints[0] : 0.f;
    if constexpr (!PerUnit) {
        // Four weights a load, kUnroll loads in flight before the first is used.
        const long long n4 = p.n / 4;
        const float4* in4 = reinterpret_cast<const float4*>(p.in);
        for (long long base = first; base < n4; base += stride * kUnroll) {
            float4 loaded[kUnroll];
            unsigned keeps[kUnroll];
#pragma unroll
            for (int u = 0; u < kUnroll; ++u) {
                const long long k = base + u * stride;
                if (k < n4) {
                    loaded[u] = __ldcs(in4 + k);
                    if constexpr (K == KeepRule::Kind::Explicit)
                        keeps[u] = __ldcs(reinterpret_cast<const unsigned*>(p.keep) + k);
                }
            }
#pragma unroll
            for (int u = 0; u < kUnroll; ++u) {
                const long long k = base + u * stride;
                if (k >= n4) break;
                const float w[4] = {loaded[u].x, loaded[u].y, loaded[u].z, loaded[u].w};
                float v[4];
#pragma unroll
                for (int j = 0; j < 4; ++j) {
                    const bool keepByte =
                        K == KeepRule::Kind::Explicit && ((keeps[u] >> (8 * j)) & 0xffu) != 0;
                    v[j] = element<Q, K>(p, w[j], keepByte, step, zp, l, counter);
                }
                if (p.out)
                    __stcs(reinterpret_cast<float4*>(p.out) + k,
                           make_float4(v[0], v[1], v[2], v[3]));
                accumulate(acc, w, v, 4);
            }
        }
        // The last n % 4 weights.
        for (long long i = n4 * 4 + first; i < p.n; i += stride) {
            const float w[4] = {p.in[i], 0.f, 0.f, 0.f};
            const bool keepByte = K == KeepRule::Kind::Explicit && p.keep[i] != 0;
            float v[4] = {element<Q, K>(p, w[0], keepByte, step, zp, l, counter), 0.f, 0.f, 0.f};
            if (p.out) p.out[i] = v[0];
            accumulate(acc, w, v, 1);
        }
    } else {
        for (long long i = first; i < p.n; i += stride) {
            const long long unit = unitOf(p, i);
            const float w[4] = {p.in[i], 0.f, 0.f, 0.f};
            const bool keepByte = K == KeepRule::Kind::Explicit && p.keep[i] != 0;
            float v[4] = {
                element<Q, K>(p, w[0], keepByte, p.steps[unit], p.zeroPoints[unit], l, counter),
                0.f, 0.f, 0.f};
            if (p.out) p.out[i] = v[0];
            accumulate(acc, w, v, 1);
        }
    }

    // The block's sums: a warp tree, then warp 0 over the warps, in a fixed order.
    __shared__ Partial warpSums[kThreads / 32];
    double sq = acc.squares, se = acc.errors, mx = acc.maxAbs;
    unsigned long long z = acc.zeros, oz = acc.originalZeros;
    for (int offset = 16; offset > 0; offset /= 2) {
        sq += __shfl_down_sync(0xffffffffu, sq, offset);
        se += __shfl_down_sync(0xffffffffu, se, offset);
        mx = fmax(mx, __shfl_down_sync(0xffffffffu, mx, offset));
        z += __shfl_down_sync(0xffffffffu, z, offset);
        oz += __shfl_down_sync(0xffffffffu, oz, offset);
    }
    const int warp = threadIdx.x / 32;
    if ((threadIdx.x & 31) == 0) warpSums[warp] = {sq, se, mx, z, oz};
    __syncthreads();
    if (threadIdx.x == 0) {
        Partial total{0, 0, 0, 0, 0};
        for (int w = 0; w < static_cast<int>(blockDim.x / 32); ++w) {
            total.squares += warpSums[w].squares;
            total.errors += warpSums[w].errors;
            total.maxAbs = fmax(total.maxAbs, warpSums[w].maxAbs);
            total.zeros += warpSums[w].zeros;
            total.originalZeros += warpSums[w].originalZeros;
        }
        p.partials[blockIdx.x] = total;
    }
    if (p.ways > 0)
        for (int s = threadIdx.x; s < l.total; s += blockDim.x) {
            unsigned long long sum = 0;
            for (int w = 0; w < p.ways; ++w) sum += sharedCounts[s * p.ways + w];
            if (sum) atomicAdd(&p.counts[s], sum);
        }
}

using KernelFn = void (*)(Params);

template <QuantKind Q, bool PerUnit>
KernelFn pickKeep(KeepRule::Kind k) {
    switch (k) {
        case KeepRule::Kind::All:
            return &fusedKernel<Q, KeepRule::Kind::All, PerUnit>;
        case KeepRule::Kind::Threshold:
            return &fusedKernel<Q, KeepRule::Kind::Threshold, PerUnit>;
        case KeepRule::Kind::Textbook:
            return &fusedKernel<Q, KeepRule::Kind::Textbook, PerUnit>;
        case KeepRule::Kind::Explicit:
            return &fusedKernel<Q, KeepRule::Kind::Explicit, PerUnit>;
    }
    return nullptr;
}

KernelFn pickKernel(const FusedJob& job) {
    switch (job.quant) {
        case QuantKind::None:
            return pickKeep<QuantKind::None, false>(job.keep.kind);
        case QuantKind::Uniform:
            return pickKeep<QuantKind::Uniform, false>(job.keep.kind);
        case QuantKind::Affine:
            return fusedPerUnit(job) ? pickKeep<QuantKind::Affine, true>(job.keep.kind)
                                     : pickKeep<QuantKind::Affine, false>(job.keep.kind);
    }
    return nullptr;
}

Bins binsOf(const HistogramSpec& spec) {
    return {static_cast<float>(spec.lo), static_cast<float>(spec.hi),
            static_cast<float>(spec.bins / (spec.hi - spec.lo)), spec.bins};
}

// Device buffers of one pass, reused across the jobs of a call.
struct Workspace {
    DeviceBuffer<float> in, out, steps, zeroPoints;
    DeviceBuffer<std::uint8_t> keep;
    DeviceBuffer<unsigned long long> counts;
    DeviceBuffer<Partial> partials;
};

// Runs the kernel of `job` over `p.n` device-resident weights in p.in (p.out, p.keep, p.steps
// set by the caller) and assembles the result as the CPU pass does.
// `start`/`stop`, where given, are recorded around the kernel alone.
FusedResult runOnDevice(const FusedJob& job, const FusedOptions& options, Params p, Workspace& ws,
                        int device, cudaEvent_t start = nullptr, cudaEvent_t stop = nullptr) {
    const bool hist = options.histograms && job.countInPass;
    const float step = fusedSingleStep(job);
    p.histograms = hist;
    p.countCompressed = hist && step == 0.f;
    p.countCodes = job.countInPass && job.codeSpan > 0;
    p.weights = hist ? binsOf(options.weights) : Bins{0.f, 0.f, 0.f, 0};
    p.errors = hist ? binsOf(options.error) : Bins{0.f, 0.f, 0.f, 0};
    p.codeSpan = p.countCodes ? static_cast<int>(job.codeSpan) : 0;
    p.codeBase = static_cast<float>(job.codeBase);
    p.codeTop = static_cast<float>(job.codeSpan - 1);
    p.rho = job.keep.rho;
    p.alpha = job.alpha;
    if (job.quant == QuantKind::Affine) {
        p.qmin = static_cast<float>(job.units->type->qmin);
        p.qmax = static_cast<float>(job.units->type->qmax);
    }
    const Layout l = layoutOf(hist ? p.weights.bins : -2, hist ? p.errors.bins : -2, p.codeSpan);
    p.layout = l;

    int optin = 0, sms = 0;
    check(cudaDeviceGetAttribute(&optin, cudaDevAttrMaxSharedMemoryPerBlockOptin, device),
          "cudaDeviceGetAttribute");
    check(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device),
          "cudaDeviceGetAttribute");
    // The most ways (lane % ways picks the copy; 32 ways: a warp never hits one bank twice)
    // whose counters fit the shared memory; none fit: global atomics.
    const std::size_t budget = std::min<std::size_t>(optin, 100 * 1024);
    p.ways = 0;
    for (int ways = 32; ways >= 1; ways /= 2)
        if (static_cast<std::size_t>(l.total) * ways * sizeof(unsigned) <= budget) {
            p.ways = ways;
            break;
        }
    const std::size_t shared =
        static_cast<std::size_t>(l.total) * std::max(p.ways, 0) * sizeof(unsigned);
    const KernelFn kernel = pickKernel(job);
    check(
        cudaFuncSetAttribute(reinterpret_cast<const void*>(kernel),
                             cudaFuncAttributeMaxDynamicSharedMemorySize, static_cast<int>(shared)),
        "cudaFuncSetAttribute");
    int perSm = 0;
    check(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&perSm, kernel, kThreads, shared),
          "occupancy");
    const long long needed = (p.n / 4 + kThreads - 1) / kThreads;
    const int blocks = static_cast<int>(
        std::max<long long>(1, std::min<long long>(needed, std::max(perSm, 1) * sms)));

    ws.counts.resize(std::max(l.total, 1));
    ws.partials.resize(blocks);
    p.counts = ws.counts.data();
    p.partials = ws.partials.data();
    const cudaStream_t stream = cudaStreamPerThread;
    check(cudaMemsetAsync(p.counts, 0, sizeof(unsigned long long) * std::max(l.total, 1), stream),
          "cudaMemset");
    if (start) check(cudaEventRecord(start, stream), "cudaEventRecord");
    kernel<<<blocks, kThreads, shared, stream>>>(p);
    checkLaunch("fused pass kernel");
    if (stop) check(cudaEventRecord(stop, stream), "cudaEventRecord");

    std::vector<unsigned long long> counts(std::max(l.total, 1));
    std::vector<Partial> partials(blocks);
    check(cudaMemcpyAsync(counts.data(), p.counts, sizeof(unsigned long long) * counts.size(),
                          cudaMemcpyDeviceToHost, stream),
          "download counts");
    check(cudaMemcpyAsync(partials.data(), p.partials, sizeof(Partial) * partials.size(),
                          cudaMemcpyDeviceToHost, stream),
          "download sums");
    check(cudaStreamSynchronize(stream), "fused pass");

    FusedResult r;
    for (const Partial& s : partials) {  // block order: the same sums every run
        r.sumSquares += s.squares;
        r.sumSquaredError += s.errors;
        r.maxAbsError = std::max(r.maxAbsError, s.maxAbs);
        r.zeros += static_cast<std::int64_t>(s.zeros);
        r.originalZeros += static_cast<std::int64_t>(s.originalZeros);
    }
    if (!job.countInPass) return r;
    r.codeCounts.assign(static_cast<std::size_t>(job.codeSpan), 0);
    if (p.countCodes)
        for (int c = 0; c < p.codeSpan; ++c) r.codeCounts[c] = counts[l.codes + c];
    if (!hist) return r;
    const auto fill = [&](Histogram& h, const HistogramSpec& spec, int offset) {
        h = Histogram(spec);
        h.underflow = counts[offset];
        for (int b = 0; b < spec.bins; ++b) h.counts[b] = counts[offset + 1 + b];
        h.overflow = counts[offset + spec.bins + 1];
    };
    fill(r.original, options.weights, l.original);
    fill(r.error, options.error, l.error);
    if (step == 0.f)
        fill(r.compressed, options.weights, l.compressed);
    else {
        r.compressed = Histogram(options.weights);
        addCodeValues(r.compressed, r.codeCounts, job.codeBase, step);
    }
    return r;
}

// The job's inputs uploaded into `ws`; p.in, p.out, p.keep, p.steps, p.zeroPoints set.
Params upload(const FusedJob& job, Workspace& ws, bool writeOut) {
    Params p{};
    const long long n = job.in.size();
    p.n = n;
    p.cols = std::max<long long>(job.in.cols, 1);
    ws.in.upload(job.in.data, static_cast<std::size_t>(n));
    p.in = ws.in.data();
    if (writeOut) {
        ws.out.resize(static_cast<std::size_t>(std::max<long long>(n, 1)));
        p.out = ws.out.data();
    }
    if (job.keep.kind == KeepRule::Kind::Explicit) {
        ws.keep.upload(job.keep.keep, static_cast<std::size_t>(n));
        p.keep = ws.keep.data();
    }
    if (job.quant == QuantKind::Affine) {
        ws.steps.upload(job.units->steps.data(), job.units->steps.size());
        ws.zeroPoints.upload(job.units->zeroPoints.data(), job.units->zeroPoints.size());
        p.steps = ws.steps.data();
        p.zeroPoints = ws.zeroPoints.data();
        p.unitMode = job.units->granularity == Granularity::Channel ? kChannel
                     : job.units->granularity == Granularity::Group ? kGroup
                                                                    : kTensor;
        p.groupSize = std::max(job.units->groupSize, 1);
    }
    return p;
}

// Normal weights (Box-Muller over a hash of the index): the same tensor for every run.
__global__ void fillNormal(float* out, long long n, float sigma, unsigned seed) {
    const long long stride = static_cast<long long>(gridDim.x) * blockDim.x;
    for (long long i = static_cast<long long>(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
         i += stride) {
        unsigned long long h = (static_cast<unsigned long long>(i) + seed) * 0x9E3779B97F4A7C15ull;
        h ^= h >> 31;
        h *= 0xBF58476D1CE4E5B9ull;
        h ^= h >> 29;
        const float u1 = (static_cast<float>(h >> 40) + 1.f) * (1.f / 16777217.f);
        const float u2 = static_cast<float>((h >> 16) & 0xffffff) * (1.f / 16777216.f);
        out[i] = sigma * sqrtf(-2.f * logf(u1)) * cospif(2.f * u2);
    }
}

}  // namespace

std::vector<FusedResult> runFusedPass(int device, const std::vector<FusedJob>& jobs,
                                      const FusedOptions& options, const Progress& progress) {
    checkFusedJobs(jobs, options);
    useDevice(device);
    Workspace ws;
    std::vector<FusedResult> results;
    results.reserve(jobs.size());
    for (std::size_t t = 0; t < jobs.size(); ++t) {
        const FusedJob& job = jobs[t];
        Params p = upload(job, ws, job.out != nullptr);
        results.push_back(runOnDevice(job, options, p, ws, device));
        if (job.out) ws.out.download(job.out, static_cast<std::size_t>(job.in.size()));
        progress.step(static_cast<long long>(t) + 1, static_cast<long long>(jobs.size()));
    }
    return results;
}

FusedTiming timeFusedPass(int device, long long n, const FusedJob& settings, bool writeOut,
                          const FusedOptions& options, int repeats) {
    checkFusedJobs({settings}, options);
    if (settings.keep.kind == KeepRule::Kind::Explicit || fusedPerUnit(settings))
        throw Error("timeFusedPass: explicit masks and per-unit steps are not timed");
    useDevice(device);
    Workspace ws;
    ws.in.resize(static_cast<std::size_t>(n));
    fillNormal<<<1024, 256, 0, cudaStreamPerThread>>>(ws.in.data(), n, 0.05f, 12345u);
    checkLaunch("fillNormal");
    FusedJob job = settings;
    job.in = MatrixView{nullptr, 1, n};
    Params p{};
    p.n = n;
    p.cols = n;
    p.in = ws.in.data();
    if (writeOut) {
        ws.out.resize(static_cast<std::size_t>(n));
        p.out = ws.out.data();
    }
    if (job.quant == QuantKind::Affine) {
        ws.steps.upload(job.units->steps.data(), 1);
        ws.zeroPoints.upload(job.units->zeroPoints.data(), 1);
        p.steps = ws.steps.data();
        p.zeroPoints = ws.zeroPoints.data();
    }
    cudaEvent_t start, stop;
    check(cudaEventCreate(&start), "cudaEventCreate");
    check(cudaEventCreate(&stop), "cudaEventCreate");
    FusedTiming timing;
    std::vector<double> ms;
    for (int r = -2; r < repeats; ++r) {  // two warm-ups
        timing.result = runOnDevice(job, options, p, ws, device, start, stop);
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

}  // namespace cwb::cuda
