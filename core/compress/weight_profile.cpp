// Settings-independent facts about a model's weights (see weight_profile.h).
#include "core/compress/weight_profile.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <limits>

#include "core/util/parallel.h"

namespace cwb {

const TensorProfile* WeightProfile::find(const std::byte* data, long long elements) const {
    for (const auto& t : tensors)
        if (t.data == data && t.elements == elements) return &t;
    return nullptr;
}

void floatRange(const float* data, long long n, int threads, float& min, float& max,
                long long& nonFinite) {
    threads =
        std::max(1, std::min<int>(resolveThreads(threads), static_cast<int>(n / (1 << 16)) + 1));
    constexpr float inf = std::numeric_limits<float>::infinity();
    std::vector<float> mins(threads, inf), maxs(threads, -inf);
    std::vector<long long> bad(threads, 0);
    parallelFor(n, threads, [&](long long begin, long long end, int worker) {
        float lo = inf, hi = -inf;
        long long notFinite = 0;
        for (long long i = begin; i < end; ++i) {
            const float v = data[i];
            const bool finite = std::fabs(v) < inf;  // false for NaN too
            notFinite += finite ? 0 : 1;
            lo = finite && v < lo ? v : lo;
            hi = finite && v > hi ? v : hi;
        }
        mins[worker] = lo;
        maxs[worker] = hi;
        bad[worker] = notFinite;
    });
    min = *std::min_element(mins.begin(), mins.end());
    max = *std::max_element(maxs.begin(), maxs.end());
    nonFinite = 0;
    for (long long b : bad) nonFinite += b;
    if (min > max) min = max = 0.f;  // empty, or nothing finite
}

long long TensorProfile::lowerBound(float x, bool strictly) const {
    const auto it = strictly
                        ? std::upper_bound(distinct.begin(), distinct.end(), x,
                                           [](float v, const Distinct& d) { return v < d.value; })
                        : std::lower_bound(distinct.begin(), distinct.end(), x,
                                           [](const Distinct& d, float v) { return d.value < v; });
    return it - distinct.begin();
}

long long keptDistinct(const TensorProfile& p, const KeepRule& rule, bool anyZero) {
    const long long n = static_cast<long long>(p.distinct.size());
    const long long zeroAt = p.lowerBound(0.f);
    const bool hasZero = zeroAt < n && p.value(zeroAt) == 0.f;
    long long kept = 0;
    bool zeroKept = false;
    switch (rule.kind) {
        case KeepRule::Kind::All:
            kept = n;
            zeroKept = hasZero;
            break;
        case KeepRule::Kind::Threshold:
            // |v| >= rho: the values >= rho and, for rho > 0, those <= -rho.
            if (rule.rho <= 0.f) {
                kept = n;
                zeroKept = hasZero;
            } else {
                kept = (n - p.lowerBound(rule.rho)) + p.lowerBound(-rule.rho, true);
            }
            break;
        case KeepRule::Kind::Textbook:
            kept = n - p.lowerBound(rule.rho);
            zeroKept = rule.rho <= 0.f && hasZero;
            break;
        case KeepRule::Kind::Explicit:
            return -1;
    }
    return kept + (anyZero && !zeroKept ? 1 : 0);
}

namespace {

// Sorted distinct values; NaNs (which do not order) are dropped and reported.
std::vector<float> sortedDistinct(const float* data, long long n, bool& hadNaN) {
    std::vector<float> v;
    v.reserve(static_cast<std::size_t>(n));
    for (long long i = 0; i < n; ++i)
        if (!std::isnan(data[i])) v.push_back(data[i]);
    hadNaN = static_cast<long long>(v.size()) != n;
    std::sort(v.begin(), v.end());
    v.erase(std::unique(v.begin(), v.end()), v.end());
    return v;
}

}  // namespace

long long countDistinct(const float* data, long long n) {
    bool hadNaN = false;
    return static_cast<long long>(sortedDistinct(data, n, hadNaN).size()) + (hadNaN ? 1 : 0);
}

std::shared_ptr<const WeightProfile> profileWeights(const Model& model, const StatsOptions&,
                                                    int threads, const Progress& progress) {
    auto profile = std::make_shared<WeightProfile>();
    std::vector<const Tensor*> sources;
    for (const auto& layer : model.layers)
        for (const Tensor* t : {&layer.kernel, &layer.bias, &layer.gamma, &layer.beta,
                                &layer.movingMean, &layer.movingVariance})
            if (!t->empty() && t->dtype() == DType::F32) sources.push_back(t);
    profile->tensors.resize(sources.size());
    long long total = 0;
    for (const Tensor* t : sources) total += t->elements();
    // Tensors are independent: threads take whole tensors (the largest sorts dominate);
    // progress is reported by the calling thread only.
    std::atomic<long long> done{0};
    std::atomic<bool> stop{false};
    parallelFor(static_cast<long long>(sources.size()), resolveThreads(threads),
                [&](long long begin, long long end, int worker) {
                    for (long long k = begin; k < end && !stop; ++k) {
                        progress.stepFromWorker(worker, done, total, stop);
                        const Tensor& t = *sources[static_cast<std::size_t>(k)];
                        TensorProfile& p = profile->tensors[static_cast<std::size_t>(k)];
                        p.data = t.bytes();
                        p.elements = t.elements();
                        const auto values = t.floats();
                        floatRange(values.data(), p.elements, 1, p.min, p.max, p.nonFinite);
                        p.maxAbs = std::max(std::fabs(p.min), std::fabs(p.max));
                        std::vector<float> sorted(values.begin(), values.end());
                        std::erase_if(sorted, [](float v) { return std::isnan(v); });
                        std::sort(sorted.begin(), sorted.end());
                        done += p.elements;
                        if (sorted.size() >=
                            (1ULL << 32)) {  // counts are 32-bit: no profile for this tensor
                            p.data = nullptr;
                            continue;
                        }
                        for (std::size_t i = 0; i < sorted.size(); ++i)
                            if (i == 0 || sorted[i] != sorted[i - 1])
                                p.distinct.push_back({sorted[i], static_cast<std::uint32_t>(i)});
                        p.counted = static_cast<long long>(sorted.size());
                        for (std::size_t j = 0; j < p.distinct.size(); j += TensorProfile::kSample)
                            p.sampled.push_back(p.distinct[j].value);
                    }
                });
    progress.step(total, total);
    return profile;
}

}  // namespace cwb
