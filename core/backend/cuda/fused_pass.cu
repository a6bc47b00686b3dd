// The fused compression pass on a GPU (see core/compress/fused_pass.h): one kernel per tensor
// (fused_kernel.cuh) reads each weight once, writes its value, and counts histograms and codes
// in shared memory. Values, codes and histogram slots are the CPU's bits: the generic mode uses
// the CPU kernels' float32 operations in the same order (this file is built with -fmad=false,
// so nothing is contracted), the fast modes equivalent cheaper ones (fused_fast.cuh) where the
// host has checked that they give the same results. Sums are per thread and per block in a
// fixed order, so they agree with the CPU's to float32 rounding and are the same every run.
#include <cuda_runtime.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "core/backend/cuda/cuda_jobs.h"
#include "core/backend/cuda/cuda_util.cuh"
#include "core/backend/cuda/fused_launch.cuh"
#include "core/compress/quant_types.h"

namespace cwb::cuda {
namespace {

template <QuantKind Q, bool PerUnit, int C>
KernelFn pickKeep(KeepRule::Kind k) {
    switch (k) {
        case KeepRule::Kind::All:
            return &fusedKernel<Q, KeepRule::Kind::All, PerUnit, C>;
        case KeepRule::Kind::Threshold:
            return &fusedKernel<Q, KeepRule::Kind::Threshold, PerUnit, C>;
        case KeepRule::Kind::Textbook:
            return &fusedKernel<Q, KeepRule::Kind::Textbook, PerUnit, C>;
        case KeepRule::Kind::Explicit:
            return &fusedKernel<Q, KeepRule::Kind::Explicit, PerUnit, C>;
    }
    return nullptr;
}

template <QuantKind Q>
KernelFn pickCounting(KeepRule::Kind k, int counting) {
    switch (counting) {
        case kHistValues:  // compressed values equal to the kept weights: no quantizer
            if constexpr (Q == QuantKind::None) return pickKeep<Q, false, kHistValues>(k);
            break;
        case kNothing:
            return pickKeep<Q, false, kNothing>(k);
        case kHistCodes:
            if constexpr (Q != QuantKind::None) return pickKeep<Q, false, kHistCodes>(k);
            break;
        case kCodes:
            if constexpr (Q != QuantKind::None) return pickKeep<Q, false, kCodes>(k);
            break;
        case kHistCodesPadded:
            if constexpr (Q == QuantKind::Uniform) return pickKeep<Q, false, kHistCodesPadded>(k);
            break;
        case kHistValuesPadded:
            if constexpr (Q == QuantKind::None) return pickKeep<Q, false, kHistValuesPadded>(k);
            break;
    }
    return pickKeep<Q, false, kGeneric>(k);
}

KernelFn pickKernel(const FusedJob& job, int counting) {
    switch (job.quant) {
        case QuantKind::None:
            return pickCounting<QuantKind::None>(job.keep.kind, counting);
        case QuantKind::Uniform:
            return pickCounting<QuantKind::Uniform>(job.keep.kind, counting);
        case QuantKind::Affine:
            return fusedPerUnit(job) ? pickKeep<QuantKind::Affine, true, kGeneric>(job.keep.kind)
                                     : pickCounting<QuantKind::Affine>(job.keep.kind, counting);
    }
    return nullptr;
}

// fast::rawSlot's conditions: bins of at least unit width in x (no product of a value below
// lo underflows to -0), and x < bins + 1 up to hi (x grows with the value, so hi bounds it).
bool fastBinsOk(const Bins& b) {
    if (!std::isfinite(b.lo) || !std::isfinite(b.hi) || !(b.scale >= 1.f) || b.bins > (1 << 20))
        return false;
    const float top = (b.hi - b.lo) * b.scale;
    return top < static_cast<float>(b.bins + 1);
}

// fast::rawSlot's constants for an array starting at counter `start`.
fast::Bins fastBinsOf(const Bins& b, int start) {
    return {b.lo,
            b.hi,
            b.scale,
            fast::kMagic + static_cast<float>(1 + start),
            fast::kMagic + static_cast<float>(start + b.bins + 2),
            fast::kMagic + static_cast<float>(start + b.bins + 3)};
}

// Adds `n` values of 0 to `h` by the CPU's slot rule.
void addZeros(Histogram& h, const Bins& b, std::uint64_t n) {
    const int slot = histogramSlot(0.f, b.lo, b.hi, b.scale, b.bins);
    if (slot == 0)
        h.underflow += n;
    else if (slot == b.bins + 1)
        h.overflow += n;
    else
        h.counts[slot - 1] += n;
}

// The fast mode for the pass's flags, or kGeneric where fused_fast.cuh's conditions fail.
int countingOf(const FusedJob& job, const Params& p, float step) {
    if (fusedPerUnit(job) || p.ways != 32) return kGeneric;
    if (job.quant != QuantKind::None && !(step >= 0x1p-60f && step <= 0x1p60f)) return kGeneric;
    if (p.histograms && !(fastBinsOk(p.weights) && fastBinsOk(p.errors))) return kGeneric;
    if (p.countCodes) {
        // Zeros come from the code-0 counter: it must count code 0 alone (no clamped codes).
        const long long zero = -static_cast<long long>(p.codeBase);
        if (job.quant == QuantKind::None || !(zero > 0 && zero < p.codeSpan - 1) ||
            std::fabs(p.codeBase) >= 0x1p22f || p.codeSpan >= (1 << 22))
            return kGeneric;
        if (!p.histograms) return kCodes;
        return p.countCompressed ? kGeneric : kHistCodes;
    }
    if (!p.histograms) return kNothing;
    return p.countCompressed ? kHistValues : kGeneric;
}

// The counters below the error histogram that let the padded modes skip its clamp, or -1
// where the errors have no lower bound: a kept weight's error is within 0.75 alpha (plus the
// product's rounding, at most 0.25 alpha for codes under 2^22; fast codes only: the exact
// path clamps its own), a pruned one's is -w with w < rho (Threshold, Textbook). `floor` is
// then a float below lo and below every such error.
int errorPadding(const FusedJob& job, const Params& p, float& floor) {
    if (!(job.quant == QuantKind::Uniform || job.quant == QuantKind::None) ||
        job.keep.kind == KeepRule::Kind::Explicit)
        return -1;
    double bound = job.quant == QuantKind::Uniform ? 1.01 * job.alpha : 0.0;
    if (job.keep.kind != KeepRule::Kind::All) bound = std::max(bound, double(job.keep.rho));
    floor = std::min(std::nextafter(-static_cast<float>(bound), -INFINITY),
                     std::nextafter(p.errors.lo, -INFINITY));
    const float x = (floor - p.errors.lo) * p.errors.scale;  // the least x (x grows with e)
    if (!(x >= -1e6f)) return -1;
    return std::max(0, -static_cast<int>(std::floor(x)) - 1);
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
// `start`/`stop`, where given, are recorded around the kernel alone. `literal` takes the
// generic mode and `ways` > 0 caps its counter copies (the bench compares them).
FusedResult runOnDevice(const FusedJob& job, const FusedOptions& options, Params p, Workspace& ws,
                        int device, cudaEvent_t start = nullptr, cudaEvent_t stop = nullptr,
                        bool literal = false, int ways = 0) {
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
    // The tensor's one step, whether or not codes are counted.
    p.step = job.quant == QuantKind::Uniform                        ? job.alpha
             : job.quant == QuantKind::Affine && !fusedPerUnit(job) ? job.units->steps[0]
                                                                    : 0.f;
    p.recip = p.step != 0.f ? 1.f / p.step : 0.f;
    p.zeroPoint =
        job.quant == QuantKind::Affine && !fusedPerUnit(job) ? job.units->zeroPoints[0] : 0.f;
    // Uniform codes are unbounded: beyond the span's nearer end (plus a half) they need the
    // clamp of the exact path. Affine codes stay inside qmin..qmax.
    p.codeLimit = 0x1p22f;
    if (job.quant == QuantKind::Uniform && p.countCodes)
        p.codeLimit = std::min(p.codeLimit, static_cast<float>(std::min<long long>(
                                                -job.codeBase, job.codeBase + job.codeSpan - 1)) +
                                                0.5f);

    const DeviceLimits limits = limitsOf(device);
    const std::size_t budget = limits.budget;
    // The fast modes take 32 copies and one raw slot more per histogram.
    p.ways = 32;
    int counting = literal ? kGeneric : countingOf(job, p, p.step);
    int pad = 0;
    if (counting == kHistCodes || counting == kHistValues) {
        const int padding = errorPadding(job, p, p.errorFloor);
        if (padding >= 0 && padding <= 512) {
            pad = padding;
            counting = counting == kHistCodes ? kHistCodesPadded : kHistValuesPadded;
        }
    }
    Layout l = layoutOf(hist, p.weights.bins, p.errors.bins, p.countCompressed, p.codeSpan,
                        counting != kGeneric, pad);
    if (counting != kGeneric && (static_cast<std::size_t>(l.total) * 128 > budget ||
                                 l.total + std::fabs(p.codeBase) >= 0x1p21f)) {
        counting = kGeneric;
        pad = 0;
        l = layoutOf(hist, p.weights.bins, p.errors.bins, p.countCompressed, p.codeSpan, false);
    }
    p.layout = l;
    p.fastWeights = fastBinsOf(p.weights, l.original);
    p.prunedShift = static_cast<unsigned>(l.compressed - l.original);
    p.fastErrors = fastBinsOf(p.errors, l.error + pad);
    p.codeLowMagic = fast::kMagic + static_cast<float>(l.codes);
    p.codeTopMagic = p.codeLowMagic + p.codeTop;
    p.codeShift = p.codeLowMagic - p.codeBase;
    // The generic rules take the most copies that fit the shared memory.
    if (counting == kGeneric) p.ways = waysThatFit(l.total, budget, ways > 0 ? ways : 32);
    const LaunchResult launched =
        launchPass(pickKernel(job, counting), p, (p.n / 4 + kThreads - 1) / kThreads, limits,
                   ws.counts, ws.partials, start, stop);
    std::vector<unsigned long long> counts = launched.counts;
    FusedResult r = sumsOf(launched.partials);
    // The fast code modes leave zeros to the code-0 counter (a value is 0 exactly when its
    // code is).
    if (counting == kHistCodes || counting == kHistCodesPadded || counting == kCodes)
        r.zeros = static_cast<std::int64_t>(counts[l.codes - job.codeBase]);
    if (!job.countInPass) return r;
    r.codeCounts.assign(static_cast<std::size_t>(job.codeSpan), 0);
    if (p.countCodes)
        for (int c = 0; c < p.codeSpan; ++c) r.codeCounts[c] = counts[l.codes + c];
    if (!hist) return r;
    const bool raw = counting != kGeneric;
    const int rows = options.weights.bins + 4;  // raw slots of the original weights
    std::vector<unsigned long long> keptRaw;    // the values modes' kept weights
    if (raw && p.countCompressed) {
        keptRaw.assign(counts.begin() + l.original, counts.begin() + l.original + rows);
        for (int i = 0; i < rows; ++i) counts[l.original + i] += counts[l.compressed + i];
    }
    r.original = histogramAt(options.weights, counts, l.original, raw);
    if (raw) {
        // The original weights' zeros were counted apart: they go to the bin of 0.
        const std::uint64_t zeros = counts[l.original + rows - 1];
        r.originalZeros = static_cast<std::int64_t>(zeros);
        addZeros(r.original, p.weights, zeros);
    }
    r.error = histogramAt(options.error, counts, l.error + pad, raw);
    for (int i = 0; i < pad; ++i) r.error.underflow += counts[l.error + i];
    if (step == 0.f && raw) {
        // Kept weights keep their values (their zeros at the bin of 0); pruned ones are 0.
        r.compressed = histogramAt(options.weights, keptRaw, 0, true);
        std::uint64_t zeros = keptRaw[rows - 1];
        for (int i = 0; i < rows; ++i) zeros += counts[l.compressed + i];
        addZeros(r.compressed, p.weights, zeros);
    } else if (step == 0.f) {
        r.compressed = histogramAt(options.weights, counts, l.compressed, raw);
    } else {
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

void fillNormalWeights(float* out, long long n) {
    fillNormal<<<1024, 256, 0, cudaStreamPerThread>>>(out, n, 0.05f, 12345u);
    checkLaunch("fillNormal");
}

FusedTiming timeFusedPass(int device, long long n, const FusedJob& settings, bool writeOut,
                          const FusedOptions& options, int repeats, bool literal, int ways) {
    checkFusedJobs({settings}, options);
    if (settings.keep.kind == KeepRule::Kind::Explicit || fusedPerUnit(settings))
        throw Error("timeFusedPass: explicit masks and per-unit steps are not timed");
    useDevice(device);
    Workspace ws;
    ws.in.resize(static_cast<std::size_t>(n));
    fillNormalWeights(ws.in.data(), n);
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
    return timeRepeats(repeats, [&](cudaEvent_t start, cudaEvent_t stop) {
        return runOnDevice(job, options, p, ws, device, start, stop, literal, ways);
    });
}

}  // namespace cwb::cuda
