// WeightProfile: what compressModel can reuse between slider moves because it does not
// depend on the settings (ranges and the sorted distinct values of every parameter tensor).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/compress/compress_model.h"
#include "core/compress/weight_view.h"

namespace cwb {

struct TensorProfile {
    const std::byte* data = nullptr;  // identifies the tensor (profiles hold no copies)
    long long elements = 0;
    float min = 0.f, max = 0.f, maxAbs = 0.f;  // of the finite values
    long long nonFinite = 0;                   // NaN and infinities
    // The distinct finite values, ascending (-0 and +0 count once), each with the number of
    // weights below it: value and count share a cache line for the searches of profile_counts.
    struct Distinct {
        float value;
        std::uint32_t below;
    };
    std::vector<Distinct> distinct;
    long long counted = 0;  // weights in `distinct` (the finite ones)
    static constexpr long long kSample = 64;
    std::vector<float> sampled;  // distinct[j * kSample].value: a small index for searches

    float value(long long i) const { return distinct[static_cast<std::size_t>(i)].value; }
    // Weights with a value at index >= a and < b.
    long long count(long long a, long long b) const {
        auto below = [&](long long i) {
            return i < static_cast<long long>(distinct.size())
                       ? static_cast<long long>(distinct[static_cast<std::size_t>(i)].below)
                       : counted;
        };
        return below(b) - below(a);
    }
    // First index whose value is >= x (or > x when `strictly`).
    long long lowerBound(float x, bool strictly = false) const;
};

class WeightProfile {
public:
    std::vector<TensorProfile> tensors;
    // The profile of a tensor with this data, or nullptr.
    const TensorProfile* find(const std::byte* data, long long elements) const;
};

// Min and max of the finite values among n floats, and how many are NaN or infinite.
void floatRange(const float* data, long long n, int threads, float& min, float& max,
                long long& nonFinite);

// Distinct values left after a threshold-style rule, from the original's sorted distinct
// values; `anyZero`: the compressed tensor holds at least one zero.
long long keptDistinct(const TensorProfile& profile, const KeepRule& rule, bool anyZero);

// Distinct values of n floats (sorts a copy).
long long countDistinct(const float* data, long long n);

}  // namespace cwb
