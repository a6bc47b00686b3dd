// The block quantization traits table (see quant_types.h).
#include "core/compress/quant_types.h"

#include <algorithm>
#include <array>
#include <cmath>

namespace cwb {
namespace {

// Symmetric block quantizer with codes -top..top and a float32 step max|x| / top.
template <int Top>
float quantizeSymmetricRef(const float* in, float* out, std::int8_t* codes, int n) {
    float maxAbs = 0.f;
    for (int i = 0; i < n; ++i) maxAbs = std::max(maxAbs, std::fabs(in[i]));
    const float step = maxAbs / static_cast<float>(Top);
    for (int i = 0; i < n; ++i) {
        float q = step > 0.f ? std::round(in[i] / step) : 0.f;
        q = std::clamp(q, -static_cast<float>(Top), static_cast<float>(Top));
        codes[i] = static_cast<std::int8_t>(q);
        out[i] = q * step;
    }
    return step;
}

constexpr std::array<QuantTypeTraits, 6> kTypes{{
    {"q8_g32", 32, 8, ScaleEncoding::F32, true, quantizeSymmetricRef<127>, quantizeSymmetricRef<127>},
    {"q8_g64", 64, 8, ScaleEncoding::F32, true, quantizeSymmetricRef<127>, quantizeSymmetricRef<127>},
    {"q8_g128", 128, 8, ScaleEncoding::F32, true, quantizeSymmetricRef<127>, quantizeSymmetricRef<127>},
    {"q4_g32", 32, 4, ScaleEncoding::F32, true, quantizeSymmetricRef<7>, quantizeSymmetricRef<7>},
    {"q4_g64", 64, 4, ScaleEncoding::F32, true, quantizeSymmetricRef<7>, quantizeSymmetricRef<7>},
    {"q4_g128", 128, 4, ScaleEncoding::F32, true, quantizeSymmetricRef<7>, quantizeSymmetricRef<7>},
}};

}  // namespace

long long QuantTypeTraits::encodedBytes(long long weights) const {
    const long long blocks = (weights + blockSize - 1) / blockSize;
    const long long scaleBytes = scale == ScaleEncoding::F16 ? 2 : 4;
    return (weights * bits + 7) / 8 + blocks * scaleBytes * (symmetric ? 1 : 2);
}

std::span<const QuantTypeTraits> quantTypes() { return kTypes; }

const QuantTypeTraits* findQuantType(const std::string& name) {
    for (const auto& t : kTypes)
        if (name == t.name) return &t;
    return nullptr;
}

}  // namespace cwb
