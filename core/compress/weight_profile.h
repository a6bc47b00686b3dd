// WeightProfile: what compressModel can reuse between slider moves because it does not
// depend on the settings (ranges and the sorted distinct values of every parameter tensor).
#pragma once

#include <cstddef>
#include <vector>

#include "core/compress/compress_model.h"
#include "core/compress/weight_view.h"

namespace cwb {

struct TensorProfile {
    const std::byte* data = nullptr;  // identifies the tensor (profiles hold no copies)
    long long elements = 0;
    float min = 0.f, max = 0.f, maxAbs = 0.f;  // of the finite values
    long long nonFinite = 0;                   // NaN and infinities
    std::vector<float> sortedUnique;       // ascending; -0 and +0 count once
    std::vector<std::int64_t> countBelow;  // countBelow[i]: weights < sortedUnique[i]; back() = all
};

class WeightProfile {
public:
    std::vector<TensorProfile> tensors;
    // The profile of a tensor with this data, or nullptr.
    const TensorProfile* find(const std::byte* data, long long elements) const;
};

// Min and max of the finite values among n floats, and how many are NaN or infinite.
void floatRange(const float* data, long long n, int threads, float& min, float& max, long long& nonFinite);

// Distinct values left after a threshold-style rule, from the original's sorted distinct
// values; `anyZero`: the compressed tensor holds at least one zero.
long long keptDistinct(const std::vector<float>& sortedUnique, const KeepRule& rule, bool anyZero);

// Distinct values of n floats (sorts a copy).
long long countDistinct(const float* data, long long n);

}  // namespace cwb
