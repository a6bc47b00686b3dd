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
    if (slot == 0)
        h.underflow += static_cast<std::uint64_t>(n);
    else if (slot == h.spec.bins + 1)
        h.overflow += static_cast<std::uint64_t>(n);
    else
        h.counts[static_cast<std::size_t>(slot - 1)] += static_cast<std::uint64_t>(n);
}

// Calls add(key, begin, end) for each run of equal keys in [a, b) of the sorted values,
// key being a monotone function of the value, so each run is contiguous. A run's end is
// searched first in the profile's every-kSample-th values (small enough to stay in cache),
// galloping from the run's start, then among the at most kSample values in between.
template <typename Key, typename Add>
void forEachRun(const TensorProfile& p, long long a, long long b, Key key, Add add) {
    const auto& sample = p.sampled;  // sample[j] == p.value(j * kSample)
    while (a < b) {
        const auto k = key(p.value(a));
        // Coarse: the last sample index js with js * kSample in (a, b) and key == k.
        long long inside = a;  // key(value(inside)) == k
        long long js = a / TensorProfile::kSample + 1, step = 1;
        const long long jsEnd = (b - 1) / TensorProfile::kSample + 1;  // samples strictly below b
        long long jsFail = jsEnd;
        while (js < jsEnd) {
            if (key(sample[js]) != k) {
                jsFail = js;
                break;
            }
            inside = js * TensorProfile::kSample;
            js += step;
            step *= 2;
        }
        long long lo = inside / TensorProfile::kSample + 1,
                  hi = jsFail;  // bisect samples in [lo, hi)
        while (lo < hi) {
            const long long mid = lo + (hi - lo) / 2;
            if (key(sample[mid]) == k) {
                inside = mid * TensorProfile::kSample;
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        // Fine: the end lies in (inside, min(b, next sample)].
        long long end = std::min(b, (inside / TensorProfile::kSample + 1) * TensorProfile::kSample);
        long long f = inside + 1;
        while (f < end && key(p.value(f)) == k) ++f;
        add(k, a, f);
        a = f;
    }
}

}  // namespace

bool profileCanCount(const FusedJob& job, const TensorProfile* profile,
                     const FusedOptions& options) {
    if (!profile || job.keep.kind == KeepRule::Kind::Explicit) return false;
    if (job.quant == QuantKind::Affine && job.units->granularity != Granularity::Tensor)
        return false;
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
    const double searches =
        runs * 2.0 * std::log2(static_cast<double>(profile->distinct.size()) + 2.0);
    return searches < 0.5 * static_cast<double>(job.in.size());
}

void countFromProfile(const FusedJob& job, const TensorProfile& p, const FusedOptions& options,
                      FusedResult& r) {
    const long long n = static_cast<long long>(p.distinct.size());
    auto count = [&](long long a, long long b) { return p.count(a, b); };
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
    if (job.keep.kind == KeepRule::Kind::Threshold) {
        prunedBegin = p.lowerBound(-job.keep.rho, true);
        prunedEnd = std::max(prunedBegin, p.lowerBound(job.keep.rho));
    } else if (job.keep.kind == KeepRule::Kind::Textbook) {
        prunedEnd = p.lowerBound(job.keep.rho);
    }

    if (hist)
        forEachRun(
            p, 0, n, [&](float w) { return slotOf(w, bw); },
            [&](int s, long long a, long long b) { addToSlot(r.original, s, count(a, b)); });

    // A run of weights that all become `v` (code `c`): codes, compressed and error counts.
    auto addConstantRun = [&](float c, float v, long long a, long long b) {
        const std::int64_t k = count(a, b);
        if (job.codeSpan > 0) {
            const auto index = static_cast<std::int64_t>(c) - job.codeBase;
            r.codeCounts[static_cast<std::size_t>(std::clamp<std::int64_t>(
                index, 0, job.codeSpan - 1))] += static_cast<std::uint64_t>(k);
        }
        if (!hist) return;
        addToSlot(r.compressed, slotOf(v, bw), k);
        // v - w falls as w rises: its slots run monotonically too.
        forEachRun(
            p, a, b, [&](float w) { return slotOf(v - w, be); },
            [&](int s, long long x, long long y) { addToSlot(r.error, s, count(x, y)); });
    };
    addConstantRun(0.f, 0.f, prunedBegin, prunedEnd);

    for (const auto& [a, b] : {std::pair{0LL, prunedBegin}, std::pair{prunedEnd, n}}) {
        if (a >= b) continue;
        if (rule.quant == QuantKind::None) {  // kept weights are unchanged: error exactly 0
            if (!hist) continue;
            forEachRun(
                p, a, b, [&](float w) { return slotOf(w, bw); },
                [&](int s, long long x, long long y) { addToSlot(r.compressed, s, count(x, y)); });
            addToSlot(r.error, slotOf(0.f, be), count(a, b));
            continue;
        }
        forEachRun(
            p, a, b, [&](float w) { return rule.code(w); },
            [&](float c, long long x, long long y) {
                addConstantRun(c, rule.valueOfCode(c), x, y);
            });
    }
}

}  // namespace cwb
