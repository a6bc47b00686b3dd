// The fused compression pass (see fused_pass.h). The element loop is written so that the
// compiler vectorizes it (no calls, branch-free selects); histogram slots are staged in a
// small block and counted in a scalar loop afterwards.
#include "core/compress/fused_pass.h"

#include <algorithm>
#include <array>
#include <cmath>

#include "core/compress/quantize.h"
#include "core/error.h"
#include "core/util/parallel.h"

namespace cwb {
namespace {

constexpr int kBlock = 256;
constexpr int kLanes = 8;

struct Chunk {
    std::size_t job;
    long long begin, end;
};

// Per-chunk sums, in fixed lanes so their order does not depend on threads.
struct ChunkSums {
    std::int64_t zeros = 0, originalZeros = 0;
    double maxAbsError = 0.0;
    std::array<double, kLanes> squares{}, errors{};

    static double reduce(const std::array<double, kLanes>& a) {
        return ((a[0] + a[1]) + (a[2] + a[3])) + ((a[4] + a[5]) + (a[6] + a[7]));
    }
};

struct BinScale {
    float lo, hi, scale;
    int bins;
};

BinScale binScale(const HistogramSpec& spec) {
    return {static_cast<float>(spec.lo), static_cast<float>(spec.hi),
            static_cast<float>(spec.bins / (spec.hi - spec.lo)), spec.bins};
}

// A worker's histogram counts for one tensor: slot 0 underflow, 1..bins, bins + 1 overflow.
struct SlotCounts {
    std::vector<std::uint32_t> original, compressed, error;
};

struct Context {
    const FusedJob* job;
    BinScale weights, errors;
    ChunkSums* sums;
    SlotCounts* counts;
};

// One run of `len` <= kBlock consecutive elements starting at `i`. `unit` is the first
// element's quantization unit; PerUnit: the run lies in one row and units advance by column.
template <QuantKind Q, bool PerUnit, KeepRule::Kind K, bool Hist>
void runBlock(const Context& ctx, long long i, int len, long long unit) {
    const FusedJob& job = *ctx.job;
    const float* in = job.in.data + i;
    alignas(64) float scratch[kBlock];
    float* out = job.out ? job.out + i : scratch;
    alignas(64) float codes[kBlock];
    alignas(64) std::uint16_t slotW[kBlock], slotC[kBlock], slotE[kBlock];

    const float rho = job.keep.rho;
    const std::uint8_t* keepMask = K == KeepRule::Kind::Explicit ? job.keep.keep + i : nullptr;
    const float alpha = job.alpha;
    const float* steps = Q == QuantKind::Affine ? job.units->steps.data() + unit : nullptr;
    const float* zeroPoints = Q == QuantKind::Affine ? job.units->zeroPoints.data() + unit : nullptr;
    const float qmin = Q == QuantKind::Affine ? static_cast<float>(job.units->units[0].qmin) : 0.f;
    const float qmax = Q == QuantKind::Affine ? static_cast<float>(job.units->units[0].qmax) : 0.f;
    const BinScale bw = ctx.weights, be = ctx.errors;

    std::int64_t zeros = 0, originalZeros = 0;
    for (int j = 0; j < len; ++j) {
        const float w = in[j];
        bool keep = true;
        if constexpr (K == KeepRule::Kind::Threshold) keep = keptByThreshold(w, rho);
        if constexpr (K == KeepRule::Kind::Textbook) keep = keptByTextbookThreshold(w, rho);
        if constexpr (K == KeepRule::Kind::Explicit) keep = keepMask[j] != 0;
        float v = w, code = 0.f;
        if constexpr (Q == QuantKind::Uniform) {
            code = roundHalfAway(w / alpha);
            v = code * alpha;
        }
        if constexpr (Q == QuantKind::Affine) {
            const float step = steps[PerUnit ? j : 0];
            const float zp = zeroPoints[PerUnit ? j : 0];
            float q = roundHalfAway(w / step) + zp;
            q = q > qmin ? q : qmin;  // NaN (step 0) goes to qmin; the value is 0 either way
            q = q < qmax ? q : qmax;
            v = (q - zp) * step;
            code = step == 0.f ? 0.f : q - zp;
        }
        v = keep ? v : 0.f;
        code = keep ? code : 0.f;
        out[j] = v;
        codes[j] = code;
        zeros += v == 0.f;
        originalZeros += w == 0.f;
        if constexpr (Hist) {
            slotW[j] = static_cast<std::uint16_t>(histogramSlot(w, bw.lo, bw.hi, bw.scale, bw.bins));
            slotC[j] = static_cast<std::uint16_t>(histogramSlot(v, bw.lo, bw.hi, bw.scale, bw.bins));
            slotE[j] = static_cast<std::uint16_t>(histogramSlot(v - w, be.lo, be.hi, be.scale, be.bins));
        }
    }

    ChunkSums& sums = *ctx.sums;
    sums.zeros += zeros;
    sums.originalZeros += originalZeros;
    std::array<double, kLanes> sq = sums.squares, se = sums.errors;
    double maxError = sums.maxAbsError;
    int j = 0;
    for (; j + kLanes <= len; j += kLanes)
        for (int l = 0; l < kLanes; ++l) {
            const double w = in[j + l];
            const double d = static_cast<double>(out[j + l]) - w;
            sq[l] += w * w;
            se[l] += d * d;
            const double a = std::fabs(d);
            maxError = a > maxError ? a : maxError;
        }
    for (int l = 0; j + l < len; ++l) {
        const double w = in[j + l];
        const double d = static_cast<double>(out[j + l]) - w;
        sq[l] += w * w;
        se[l] += d * d;
        const double a = std::fabs(d);
        maxError = a > maxError ? a : maxError;
    }
    sums.squares = sq;
    sums.errors = se;
    sums.maxAbsError = maxError;

    if constexpr (Hist) {
        std::uint32_t* hw = ctx.counts->original.data();
        std::uint32_t* hc = ctx.counts->compressed.data();
        std::uint32_t* he = ctx.counts->error.data();
        for (int k = 0; k < len; ++k) {
            ++hw[slotW[k]];
            ++hc[slotC[k]];
            ++he[slotE[k]];
        }
    }
    if (job.codeSeen) {
        for (int k = 0; k < len; ++k) {
            const auto index = static_cast<std::int64_t>(codes[k]) - job.codeBase;
            if (index < 0 || index >= job.codeSpan) continue;  // outside the planned span: not counted
            auto& seen = job.codeSeen[index];
            if (!seen.load(std::memory_order_relaxed)) seen.store(1, std::memory_order_relaxed);
        }
    }
}

using BlockFn = void (*)(const Context&, long long, int, long long);

template <QuantKind Q, bool PerUnit, KeepRule::Kind K>
BlockFn pickHist(bool hist) {
    return hist ? &runBlock<Q, PerUnit, K, true> : &runBlock<Q, PerUnit, K, false>;
}

template <QuantKind Q, bool PerUnit>
BlockFn pickKeep(KeepRule::Kind k, bool hist) {
    switch (k) {
        case KeepRule::Kind::All: return pickHist<Q, PerUnit, KeepRule::Kind::All>(hist);
        case KeepRule::Kind::Threshold: return pickHist<Q, PerUnit, KeepRule::Kind::Threshold>(hist);
        case KeepRule::Kind::Textbook: return pickHist<Q, PerUnit, KeepRule::Kind::Textbook>(hist);
        case KeepRule::Kind::Explicit: return pickHist<Q, PerUnit, KeepRule::Kind::Explicit>(hist);
    }
    return nullptr;
}

bool perUnit(const FusedJob& job) {
    return job.quant == QuantKind::Affine && job.units->granularity != Granularity::Tensor;
}

BlockFn pickBlock(const FusedJob& job, bool hist) {
    switch (job.quant) {
        case QuantKind::None: return pickKeep<QuantKind::None, false>(job.keep.kind, hist);
        case QuantKind::Uniform: return pickKeep<QuantKind::Uniform, false>(job.keep.kind, hist);
        case QuantKind::Affine:
            return perUnit(job) ? pickKeep<QuantKind::Affine, true>(job.keep.kind, hist)
                                : pickKeep<QuantKind::Affine, false>(job.keep.kind, hist);
    }
    return nullptr;
}

void runChunk(const Context& ctx, BlockFn block, const Chunk& chunk) {
    const FusedJob& job = *ctx.job;
    long long i = chunk.begin;
    if (!perUnit(job)) {
        for (; i < chunk.end; i += kBlock) block(ctx, i, static_cast<int>(std::min<long long>(kBlock, chunk.end - i)), 0);
        return;
    }
    // Per-channel or per-group steps: runs stay inside one row so units advance with the column.
    const long long cols = job.in.cols;
    while (i < chunk.end) {
        const long long r = i / cols, c = i % cols;
        const int len = static_cast<int>(std::min<long long>({kBlock, cols - c, chunk.end - i}));
        block(ctx, i, len, job.units->unitOf(r, c));
        i += len;
    }
}

Histogram toHistogram(const HistogramSpec& spec, const std::vector<std::uint32_t>& slots) {
    Histogram h(spec);
    h.underflow = slots.front();
    h.overflow = slots.back();
    for (int b = 0; b < spec.bins; ++b) h.counts[b] = slots[b + 1];
    return h;
}

}  // namespace

std::vector<FusedResult> runFusedPass(const std::vector<FusedJob>& jobs, const FusedOptions& options,
                                      const Progress& progress) {
    const bool hist = options.histograms;
    if (hist) {
        for (const HistogramSpec* s : {&options.weights, &options.error})
            if (s->bins < 1 || s->bins > 65000 || !(s->hi > s->lo))
                throw Error("histogram needs 1..65000 bins and a range with hi > lo");
    }
    std::vector<Chunk> chunks;
    for (std::size_t t = 0; t < jobs.size(); ++t)
        for (long long b = 0; b < jobs[t].in.size(); b += options.chunk)
            chunks.push_back({t, b, std::min(jobs[t].in.size(), b + options.chunk)});

    std::vector<BlockFn> blocks;
    for (const auto& job : jobs) blocks.push_back(pickBlock(job, hist));
    const BinScale weightBins = hist ? binScale(options.weights) : BinScale{};
    const BinScale errorBins = hist ? binScale(options.error) : BinScale{};

    const int threads = static_cast<int>(std::min<long long>(resolveThreads(options.threads),
                                                             std::max<std::size_t>(chunks.size(), 1)));
    std::vector<ChunkSums> sums(chunks.size());
    // Integer counts are merged per worker: addition of integers does not depend on order.
    std::vector<std::vector<SlotCounts>> counts(static_cast<std::size_t>(threads));
    std::atomic<long long> done{0};
    std::atomic<bool> stop{false};
    const long long total = static_cast<long long>(chunks.size());

    parallelFor(total, threads, [&](long long begin, long long end, int worker) {
        auto& mine = counts[static_cast<std::size_t>(worker)];
        if (hist) {
            mine.resize(jobs.size());
            for (auto& c : mine) {
                c.original.assign(options.weights.bins + 2, 0);
                c.compressed.assign(options.weights.bins + 2, 0);
                c.error.assign(options.error.bins + 2, 0);
            }
        }
        for (long long k = begin; k < end; ++k) {
            if (stop.load(std::memory_order_relaxed)) return;
            const Chunk& chunk = chunks[static_cast<std::size_t>(k)];
            const Context ctx{&jobs[chunk.job], weightBins, errorBins, &sums[static_cast<std::size_t>(k)],
                              hist ? &mine[chunk.job] : nullptr};
            runChunk(ctx, blocks[chunk.job], chunk);
            const long long d = ++done;
            if (worker == 0) {
                try {
                    progress.step(d, total);
                } catch (...) {
                    stop = true;
                    throw;
                }
            }
        }
    });

    std::vector<FusedResult> results(jobs.size());
    for (std::size_t k = 0; k < chunks.size(); ++k) {
        FusedResult& r = results[chunks[k].job];
        const ChunkSums& s = sums[k];
        r.zeros += s.zeros;
        r.originalZeros += s.originalZeros;
        r.sumSquares += ChunkSums::reduce(s.squares);
        r.sumSquaredError += ChunkSums::reduce(s.errors);
        r.maxAbsError = std::max(r.maxAbsError, s.maxAbsError);
    }
    if (hist) {
        for (std::size_t t = 0; t < jobs.size(); ++t) {
            FusedResult& r = results[t];
            r.original = Histogram(options.weights);
            r.compressed = Histogram(options.weights);
            r.error = Histogram(options.error);
            for (const auto& perWorker : counts) {
                if (perWorker.empty()) continue;
                r.original.merge(toHistogram(options.weights, perWorker[t].original));
                r.compressed.merge(toHistogram(options.weights, perWorker[t].compressed));
                r.error.merge(toHistogram(options.error, perWorker[t].error));
            }
        }
    }
    return results;
}

}  // namespace cwb
