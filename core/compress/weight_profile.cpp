// Settings-independent facts about a model's weights (see weight_profile.h).
#include "core/compress/weight_profile.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/util/parallel.h"

namespace cwb {

const TensorProfile* WeightProfile::find(const std::byte* data, long long elements) const {
    for (const auto& t : tensors)
        if (t.data == data && t.elements == elements) return &t;
    return nullptr;
}

void floatRange(const float* data, long long n, int threads, float& min, float& max, long long& nonFinite) {
    threads = std::max(1, std::min<int>(resolveThreads(threads), static_cast<int>(n / (1 << 16)) + 1));
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

long long keptDistinct(const std::vector<float>& u, const KeepRule& rule, bool anyZero) {
    long long kept = 0;
    bool zeroKept = false;
    switch (rule.kind) {
        case KeepRule::Kind::All:
            kept = static_cast<long long>(u.size());
            zeroKept = std::binary_search(u.begin(), u.end(), 0.f);
            break;
        case KeepRule::Kind::Threshold: {
            // |v| >= rho: the values >= rho and, for rho > 0, those <= -rho.
            const float rho = rule.rho;
            if (rho <= 0.f) {
                kept = static_cast<long long>(u.size());
            } else {
                kept = u.end() - std::lower_bound(u.begin(), u.end(), rho);
                kept += std::upper_bound(u.begin(), u.end(), -rho) - u.begin();
            }
            zeroKept = rho <= 0.f && std::binary_search(u.begin(), u.end(), 0.f);
            break;
        }
        case KeepRule::Kind::Textbook:
            kept = u.end() - std::lower_bound(u.begin(), u.end(), rule.rho);
            zeroKept = rule.rho <= 0.f && std::binary_search(u.begin(), u.end(), 0.f);
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

std::shared_ptr<const WeightProfile> profileWeights(const Model& model, const StatsOptions&, int threads,
                                                    const Progress& progress) {
    auto profile = std::make_shared<WeightProfile>();
    std::vector<const Tensor*> sources;
    for (const auto& layer : model.layers)
        for (const Tensor* t : {&layer.kernel, &layer.bias, &layer.gamma, &layer.beta, &layer.movingMean, &layer.movingVariance})
            if (!t->empty() && t->dtype() == DType::F32) sources.push_back(t);
    profile->tensors.resize(sources.size());
    long long total = 0;
    for (const Tensor* t : sources) total += t->elements();
    long long done = 0;
    for (std::size_t k = 0; k < sources.size(); ++k) {
        progress.step(done, total);
        const Tensor& t = *sources[k];
        TensorProfile& p = profile->tensors[k];
        p.data = t.bytes();
        p.elements = t.elements();
        const auto values = t.floats();
        floatRange(values.data(), p.elements, threads, p.min, p.max, p.nonFinite);
        p.maxAbs = std::max(std::fabs(p.min), std::fabs(p.max));
        std::vector<float> sorted(values.begin(), values.end());
        std::erase_if(sorted, [](float v) { return std::isnan(v); });
        std::sort(sorted.begin(), sorted.end());
        for (std::size_t i = 0; i < sorted.size(); ++i) {
            if (i == 0 || sorted[i] != sorted[i - 1]) {
                p.sortedUnique.push_back(sorted[i]);
                p.countBelow.push_back(static_cast<std::int64_t>(i));
            }
        }
        p.countBelow.push_back(static_cast<std::int64_t>(sorted.size()));
        done += p.elements;
    }
    progress.step(total, total);
    return profile;
}

}  // namespace cwb
