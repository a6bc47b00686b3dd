// The fused compression pass (see fused_pass.h). Work goes in blocks of up to kBlock
// elements that stay in L1: values and histogram slots come from the kernels of
// fused_kernels.h (the family of quant::activeIsa()), then counts and sums are taken from the
// block.
#include "core/compress/fused_pass.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <cmath>

#include "core/compress/fused_kernels.h"
#include "core/compress/quant_types.h"
#include "core/error.h"
#include "core/util/parallel.h"

namespace cwb {
namespace {

using namespace fused;

constexpr int kBlock = 256;

struct Chunk {
    std::size_t job;
    long long begin, end;
};

// Lanes reduced in a fixed tree.
double reduceLanes(const double (&a)[kLanes]) {
    return ((a[0] + a[1]) + (a[2] + a[3])) + ((a[4] + a[5]) + (a[6] + a[7]));
}

// A worker's counts for one tensor. Histogram slots: 0 underflow, 1..bins, bins + 1 overflow.
// Each counter has kWays copies side by side: weights cluster in a few bins, and increments
// of one address wait on each other, so consecutive elements go to different copies.
constexpr int kWays = 4;
struct WorkerCounts {
    std::vector<std::uint32_t> original, compressed, error, codes;
};

void countInterleaved(std::uint32_t* counters, const std::uint16_t* index, int len) {
    int k = 0;
    for (; k + kWays <= len; k += kWays)
        for (int w = 0; w < kWays; ++w) ++counters[index[k + w] * kWays + w];
    for (; k < len; ++k) ++counters[index[k] * kWays];
}

std::uint64_t interleavedCount(const std::vector<std::uint32_t>& counters, std::size_t i) {
    std::uint64_t n = 0;
    for (int w = 0; w < kWays; ++w) n += counters[i * kWays + w];
    return n;
}

// ---- the block -----------------------------------------------------------------------

struct Context {
    const FusedJob* job;
    const FusedKernels* kernels;
    QuantizeRunFn values;  // the job's mask and quantizer
    BinScale weights, errors;
    bool histograms;
    bool compressedFromCodes;  // the compressed histogram is derived from the code counts
    LaneSums* sums;
    WorkerCounts* counts;
};

// One run of `len` <= kBlock consecutive elements starting at `i`. `unit` is the first
// element's quantization unit; per-unit jobs: the run lies in one row and units advance by
// column.
void runBlock(const Context& ctx, long long i, int len, long long unit) {
    const FusedJob& job = *ctx.job;
    const FusedKernels& k = *ctx.kernels;
    alignas(64) float scratch[kBlock];
    alignas(64) float codes[kBlock];
    BlockParams p{};
    p.in = job.in.data + i;
    p.out = scratch;  // in L1; copied to the output at the end
    p.codes = codes;
    p.keepMask = job.keep.kind == KeepRule::Kind::Explicit ? job.keep.keep + i : nullptr;
    p.rho = job.keep.rho;
    p.alpha = job.alpha;
    if (job.quant == QuantKind::Affine) {
        const QuantTypeTraits& type = *job.units->type;
        p.steps = job.units->steps.data() + unit;
        p.zeroPoints = job.units->zeroPoints.data() + unit;
        p.qmin = static_cast<float>(type.qmin);
        p.qmax = static_cast<float>(type.qmax);
    }
    ctx.values(p, len);
    const float* in = p.in;
    const float* out = p.out;

    k.sums(in, out, len, *ctx.sums);
    if (job.out) k.store(job.out + i, out, len);

    WorkerCounts& counts = *ctx.counts;
    alignas(64) std::uint16_t slotA[kBlock], slotB[kBlock];
    if (!job.countInPass) return;
    if (ctx.histograms) {
        k.weightSlots(in, len, ctx.weights, slotA);
        k.errorSlots(in, out, len, ctx.errors, slotB);
        countInterleaved(counts.original.data(), slotA, len);
        countInterleaved(counts.error.data(), slotB, len);
        if (!ctx.compressedFromCodes) {
            k.weightSlots(out, len, ctx.weights, slotA);
            countInterleaved(counts.compressed.data(), slotA, len);
        }
    }
    if (job.codeSpan > 0) {
        // Codes lie in the span by construction (weights are finite, checked before the
        // pass); the clamp in codeIndices only keeps memory safe.
        k.codeIndices(codes, len, static_cast<float>(job.codeBase),
                      static_cast<float>(job.codeSpan - 1), slotA);
        countInterleaved(counts.codes.data(), slotA, len);
    }
}

// The job's mask and quantizer in the family of `isa`; k-bit codes take the quantization
// type's own kernel (quant_types.h).
QuantizeRunFn valuesOf(const FusedJob& job, const FusedKernels& kernels, quant::Isa isa) {
    if (job.quant == QuantKind::Affine) return job.units->type->kernel(job.keep.kind, isa);
    return kernels.values[static_cast<int>(job.quant)][0][static_cast<int>(job.keep.kind)];
}

void runChunk(const Context& ctx, const Chunk& chunk) {
    const FusedJob& job = *ctx.job;
    long long i = chunk.begin;
    if (!fusedPerUnit(job)) {
        for (; i < chunk.end; i += kBlock)
            runBlock(ctx, i, static_cast<int>(std::min<long long>(kBlock, chunk.end - i)), 0);
        return;
    }
    // Per-channel or per-group steps: runs stay inside one row so units advance with the column.
    const long long cols = job.in.cols;
    while (i < chunk.end) {
        const long long r = i / cols, c = i % cols;
        const int len = static_cast<int>(std::min<long long>({kBlock, cols - c, chunk.end - i}));
        runBlock(ctx, i, len, job.units->unitOf(r, c));
        i += len;
    }
}

void addSlots(Histogram& h, const std::vector<std::uint32_t>& slots) {
    h.underflow += interleavedCount(slots, 0);
    h.overflow += interleavedCount(slots, static_cast<std::size_t>(h.spec.bins) + 1);
    for (int b = 0; b < h.spec.bins; ++b)
        h.counts[b] += interleavedCount(slots, static_cast<std::size_t>(b) + 1);
}

}  // namespace

std::vector<FusedResult> runFusedPass(const std::vector<FusedJob>& jobs,
                                      const FusedOptions& options, const Progress& progress) {
    const bool hist = options.histograms;
    checkFusedJobs(jobs, options);
    std::vector<Chunk> chunks;
    for (std::size_t t = 0; t < jobs.size(); ++t)
        for (long long b = 0; b < jobs[t].in.size(); b += options.chunk)
            chunks.push_back({t, b, std::min(jobs[t].in.size(), b + options.chunk)});

    // The kernel family: the widest this CPU has unless a test or benchmark set another.
    const quant::Isa isa = quant::activeIsa();
    const FusedKernels& kernels = fusedKernels(isa);
    std::vector<QuantizeRunFn> values;
    std::vector<float> steps;
    for (const auto& job : jobs) {
        values.push_back(valuesOf(job, kernels, isa));
        steps.push_back(fusedSingleStep(job));
    }
    const BinScale weightBins = hist ? binScale(options.weights) : BinScale{};
    const BinScale errorBins = hist ? binScale(options.error) : BinScale{};

    const int threads = static_cast<int>(std::min<long long>(
        resolveThreads(options.threads), std::max<std::size_t>(chunks.size(), 1)));
    std::vector<LaneSums> sums(chunks.size());
    // Integer counts are kept per worker: adding integers does not depend on the order.
    std::vector<std::vector<WorkerCounts>> counts(static_cast<std::size_t>(threads));
    std::atomic<long long> done{0};
    std::atomic<bool> stop{false};
    const long long total = static_cast<long long>(chunks.size());

    parallelFor(total, threads, [&](long long begin, long long end, int worker) {
        auto& mine = counts[static_cast<std::size_t>(worker)];
        mine.resize(jobs.size());
        for (std::size_t t = 0; t < jobs.size(); ++t) {
            if (hist) {
                mine[t].original.assign((options.weights.bins + 2) * kWays, 0);
                mine[t].compressed.assign((options.weights.bins + 2) * kWays, 0);
                mine[t].error.assign((options.error.bins + 2) * kWays, 0);
            }
            if (jobs[t].countInPass)
                mine[t].codes.assign(static_cast<std::size_t>(jobs[t].codeSpan) * kWays, 0);
        }
        for (long long k = begin; k < end; ++k) {
            if (stop.load(std::memory_order_relaxed)) return;
            const Chunk& chunk = chunks[static_cast<std::size_t>(k)];
            const Context ctx{&jobs[chunk.job],
                              &kernels,
                              values[chunk.job],
                              weightBins,
                              errorBins,
                              hist,
                              hist && steps[chunk.job] != 0.f,
                              &sums[static_cast<std::size_t>(k)],
                              &mine[chunk.job]};
            runChunk(ctx, chunk);
            storeFence();  // streaming stores are visible to other threads after this
            progress.stepFromWorker(worker, ++done, total, stop);
        }
    });

    std::vector<FusedResult> results(jobs.size());
    for (std::size_t k = 0; k < chunks.size(); ++k) {
        FusedResult& r = results[chunks[k].job];
        const LaneSums& s = sums[k];
        r.zeros += s.zeros;
        r.originalZeros += s.originalZeros;
        r.sumSquares += reduceLanes(s.squares);
        r.sumSquaredError += reduceLanes(s.errors);
        r.maxAbsError = std::max(r.maxAbsError, s.maxAbsError);
    }
    for (std::size_t t = 0; t < jobs.size(); ++t) {
        FusedResult& r = results[t];
        if (!jobs[t].countInPass) continue;
        r.codeCounts.assign(static_cast<std::size_t>(jobs[t].codeSpan), 0);
        for (const auto& perWorker : counts) {
            if (perWorker.empty()) continue;
            for (std::size_t c = 0; c < r.codeCounts.size(); ++c)
                r.codeCounts[c] += interleavedCount(perWorker[t].codes, c);
        }
        if (!hist) continue;
        r.original = Histogram(options.weights);
        r.compressed = Histogram(options.weights);
        r.error = Histogram(options.error);
        for (const auto& perWorker : counts) {
            if (perWorker.empty()) continue;
            addSlots(r.original, perWorker[t].original);
            addSlots(r.error, perWorker[t].error);
            if (steps[t] == 0.f) addSlots(r.compressed, perWorker[t].compressed);
        }
        if (steps[t] != 0.f) addCodeValues(r.compressed, r.codeCounts, jobs[t].codeBase, steps[t]);
    }
    return results;
}

void checkFusedJobs(const std::vector<FusedJob>& jobs, const FusedOptions& options) {
    if (options.histograms) {
        for (const HistogramSpec* s : {&options.weights, &options.error})
            if (s->bins < 1 || s->bins > 65000 || !(s->hi > s->lo))
                throw Error("histogram needs 1..65000 bins and a range with hi > lo");
    }
    for (const auto& job : jobs) {
        if (job.codeSpan > kMaxCountedCodes) throw Error("internal: code span too large to count");
        if (job.quant == QuantKind::Affine &&
            (!job.units || !job.units->type ||
             job.units->type->granularity != job.units->granularity))
            throw Error("internal: k-bit job without its quantization type");
    }
}

bool fusedPerUnit(const FusedJob& job) {
    return job.quant == QuantKind::Affine && job.units->type->granularity != Granularity::Tensor;
}

float fusedSingleStep(const FusedJob& job) {
    if (job.codeSpan <= 0) return 0.f;
    if (job.quant == QuantKind::Uniform) return job.alpha;
    if (job.quant == QuantKind::Affine && !fusedPerUnit(job)) return job.units->steps[0];
    return 0.f;
}

void addCodeValues(Histogram& compressed, const std::vector<std::uint64_t>& codeCounts,
                   std::int64_t codeBase, float step) {
    const fused::BinScale bins = fused::binScale(compressed.spec);
    // code * step is exactly how the pass computed each value (pruned: code 0, value 0).
    for (std::size_t c = 0; c < codeCounts.size(); ++c) {
        if (!codeCounts[c]) continue;
        const float value = static_cast<float>(codeBase + static_cast<std::int64_t>(c)) * step;
        const int slot = histogramSlot(value, bins.lo, bins.hi, bins.scale, bins.bins);
        if (slot == 0)
            compressed.underflow += codeCounts[c];
        else if (slot == bins.bins + 1)
            compressed.overflow += codeCounts[c];
        else
            compressed.counts[slot - 1] += codeCounts[c];
    }
}

}  // namespace cwb
