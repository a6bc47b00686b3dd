// Counting from sorted distinct values (see profile_counts.h).
#include "core/compress/profile_counts.h"

#include <algorithm>
#include <cmath>

#include "core/compress/fused_kernels.h"

namespace cwb {
namespace {

using fused::BinScale;
using fused::binScale;

// The element rule of the pass, one value at a time (the same float operations as the
// kernels' scalar reference).
struct ValueRule {
    QuantKind quant = QuantKind::None;
    float alpha = 0.f, step = 0.f, zp = 0.f, qmin = 0.f, qmax = 0.f;

    float code(float w) const {
        if (quant == QuantKind::Uniform) return roundHalfAway(w / alpha);
        if (quant == QuantKind::Affine) {
            float q = roundHalfAway(w / step) + zp;
            q = q > qmin ? q : qmin;
            q = q < qmax ? q : qmax;
            return step == 0.f ? 0.f : q - zp;
        }
        return 0.f;
    }
    float valueOfCode(float c) const { return quant == QuantKind::Uniform ? c * alpha : c * step; }
};

ValueRule ruleOf(const FusedJob& job) {
    ValueRule r;
    r.quant = job.quant;
    r.alpha = job.alpha;
    if (job.quant == QuantKind::Affine) {
        r.step = job.units->steps[0];
        r.zp = job.units->zeroPoints[0];
        r.qmin = static_cast<float>(job.units->units[0].qmin);
        r.qmax = static_cast<float>(job.units->units[0].qmax);
    }
    return r;
}

int slotOf(float v, const BinScale& b) { return histogramSlot(v, b.lo, b.hi, b.scale, b.bins); }

void addToSlot(Histogram& h, int slot, std::int64_t n) {
    if (slot == 0) h.underflow += static_cast<std::uint64_t>(n);
    else if (slot == h.spec.bins + 1) h.overflow += static_cast<std::uint64_t>(n);
    else h.counts[static_cast<std::size_t>(slot - 1)] += static_cast<std::uint64_t>(n);
}

// Calls add(key, begin, end) for each run of equal keys in [a, b); key must be monotone
// there, so each run is contiguous. Its end is found by galloping from its start (steps of
// 1, 2, 4, ...) and then bisecting: O(log run) probes, near each other in memory.
template <typename Key, typename Add>
void forEachRun(long long a, long long b, Key key, Add add) {
    while (a < b) {
        const auto k = key(a);
        long long inside = a, probe = a + 1, step = 1;  // key(inside) == k
        while (probe < b && key(probe) == k) {
            inside = probe;
            step *= 2;
            probe = std::min(b, probe + step);
        }
        long long lo = inside + 1, hi = probe;  // the end lies in (inside, probe]
        while (lo < hi) {
            const long long mid = lo + (hi - lo) / 2;
            if (key(mid) == k) lo = mid + 1;
            else hi = mid;
        }
        add(k, a, lo);
        a = lo;
    }
}

}  // namespace

bool profileCanCount(const FusedJob& job, const TensorProfile* profile, const FusedOptions& options) {
    if (!profile || job.keep.kind == KeepRule::Kind::Explicit) return false;
    if (job.quant == QuantKind::Affine && job.units->granularity != Granularity::Tensor) return false;
    if (job.quant != QuantKind::None && job.codeSpan <= 0) return false;
    // Runs to find: the weight bins twice, and per code the error bins one step spans.
    double runs = 2.0 * options.weights.bins + options.error.bins;
    if (job.quant != QuantKind::None && options.histograms) {
        const double step = job.quant == QuantKind::Uniform ? job.alpha : job.units->steps[0];
        const double errorBin = (options.error.hi - options.error.lo) / options.error.bins;
        runs += static_cast<double>(job.codeSpan) * (std::ceil(step / errorBin) + 2.0);
    } else {
        runs += static_cast<double>(job.codeSpan);
    }
    const double searches = runs * 2.0 * std::log2(static_cast<double>(profile->sortedUnique.size()) + 2.0);
    return searches < 0.5 * static_cast<double>(job.in.size());
}

void countFromProfile(const FusedJob& job, const TensorProfile& p, const FusedOptions& options, FusedResult& r) {
    const auto& u = p.sortedUnique;
    const long long n = static_cast<long long>(u.size());
    auto count = [&](long long a, long long b) { return p.countBelow[b] - p.countBelow[a]; };
    const ValueRule rule = ruleOf(job);
    const bool hist = options.histograms;
    const BinScale bw = hist ? binScale(options.weights) : BinScale{};
    const BinScale be = hist ? binScale(options.error) : BinScale{};
    if (hist) {
        r.original = Histogram(options.weights);
        r.compressed = Histogram(options.weights);
        r.error = Histogram(options.error);
    }
    r.codeCounts.assign(static_cast<std::size_t>(job.codeSpan), 0);

    // Pruned weights form one run of the sorted values: (-rho, rho) or (-inf, rho).
    long long prunedBegin = 0, prunedEnd = 0;
    auto firstAtLeast = [&](float x) {  // first index with u >= x
        return static_cast<long long>(std::lower_bound(u.begin(), u.end(), x) - u.begin());
    };
    if (job.keep.kind == KeepRule::Kind::Threshold) {
        prunedBegin = static_cast<long long>(std::upper_bound(u.begin(), u.end(), -job.keep.rho) - u.begin());
        prunedEnd = std::max(prunedBegin, firstAtLeast(job.keep.rho));
    } else if (job.keep.kind == KeepRule::Kind::Textbook) {
        prunedEnd = firstAtLeast(job.keep.rho);
    }

    if (hist)
        forEachRun(0, n, [&](long long i) { return slotOf(u[i], bw); },
                   [&](int s, long long a, long long b) { addToSlot(r.original, s, count(a, b)); });

    // A run of weights that all become `v` (code `c`): codes, compressed and error counts.
    auto addConstantRun = [&](float c, float v, long long a, long long b) {
        const std::int64_t k = count(a, b);
        if (job.codeSpan > 0) {
            const auto index = static_cast<std::int64_t>(c) - job.codeBase;
            r.codeCounts[static_cast<std::size_t>(std::clamp<std::int64_t>(index, 0, job.codeSpan - 1))] +=
                static_cast<std::uint64_t>(k);
        }
        if (!hist) return;
        addToSlot(r.compressed, slotOf(v, bw), k);
        // v - w falls as w rises: its slots run monotonically too.
        forEachRun(a, b, [&](long long i) { return slotOf(v - u[i], be); },
                   [&](int s, long long x, long long y) { addToSlot(r.error, s, count(x, y)); });
    };
    addConstantRun(0.f, 0.f, prunedBegin, prunedEnd);

    for (const auto& [a, b] : {std::pair{0LL, prunedBegin}, std::pair{prunedEnd, n}}) {
        if (a >= b) continue;
        if (rule.quant == QuantKind::None) {  // kept weights are unchanged: error exactly 0
            if (!hist) continue;
            forEachRun(a, b, [&](long long i) { return slotOf(u[i], bw); },
                       [&](int s, long long x, long long y) { addToSlot(r.compressed, s, count(x, y)); });
            addToSlot(r.error, slotOf(0.f, be), count(a, b));
            continue;
        }
        forEachRun(a, b, [&](long long i) { return rule.code(u[i]); },
                   [&](float c, long long x, long long y) { addConstantRun(c, rule.valueOfCode(c), x, y); });
    }
}

}  // namespace cwb
