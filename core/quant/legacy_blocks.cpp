// The 32-value formats Q4_0, Q4_1, Q5_0, Q5_1, Q8_0 and Q8_1: exact decoding, llama.cpp's
// reference quantizers and the reference dot products. Compiled without floating-point
// contraction (core/CMakeLists.txt) so that d * q + m rounds twice, as in llama.cpp.
#include <algorithm>
#include <cfloat>

#include "core/quant/block_layouts.h"
#include "core/quant/fp16.h"
#include "core/quant/kernels.h"

namespace cwb::quant::detail {
namespace {

std::uint32_t loadQh(const std::uint8_t* qh) {
    std::uint32_t v;
    std::memcpy(&v, qh, 4);
    return v;
}

// Codes of a 32-value block: element j in the low nibble of qs[j], j + 16 in the high one,
// with a fifth bit from qh for the Q5 formats.
template <typename Block>
void codes4(const Block& b, int* q) {
    for (int j = 0; j < kQK / 2; ++j) {
        q[j] = b.qs[j] & 0x0f;
        q[j + kQK / 2] = b.qs[j] >> 4;
    }
}
template <typename Block>
void codes5(const Block& b, int* q) {
    const std::uint32_t qh = loadQh(b.qh);
    for (int j = 0; j < kQK / 2; ++j) {
        q[j] = (b.qs[j] & 0x0f) | static_cast<int>(((qh >> j) << 4) & 0x10);
        q[j + kQK / 2] = (b.qs[j] >> 4) | static_cast<int>((qh >> (j + 12)) & 0x10);
    }
}
template <typename Block>
void packCodes5(Block& b, const int* q) {
    std::uint32_t qh = 0;
    for (int j = 0; j < kQK / 2; ++j) {
        const int lo = q[j], hi = q[j + kQK / 2];
        b.qs[j] = static_cast<std::uint8_t>((lo & 0x0f) | ((hi & 0x0f) << 4));
        qh |= static_cast<std::uint32_t>((lo & 0x10) >> 4) << j;
        qh |= static_cast<std::uint32_t>((hi & 0x10) >> 4) << (j + kQK / 2);
    }
    std::memcpy(b.qh, &qh, 4);
}

// Symmetric formats (Q4_0, Q5_0): d = max / -half, codes (int)(x / d + half + 0.5) capped.
template <typename Block, int Half>
void quantizeSymmetric(const float* x, Block& y, int* codes) {
    float amax;
    const float max = signedAbsMax(x, kQK, amax);
    const float d = max / -Half;
    const float id = d != 0.f ? 1.0f / d : 0.0f;
    y.d = floatToHalf(d);
    for (int j = 0; j < kQK; ++j)
        codes[j] = std::min(2 * Half - 1, truncToInt8Range(x[j] * id + (Half + 0.5f)));
}

// Formats with a minimum (Q4_1, Q5_1): d = (max - min) / top, codes (x - min) / d rounded.
template <typename Block, int Top>
void quantizeWithMin(const float* x, Block& y, int* codes) {
    float min = FLT_MAX, max = -FLT_MAX;
    for (int j = 0; j < kQK; ++j) {
        if (x[j] < min) min = x[j];
        if (x[j] > max) max = x[j];
    }
    const float d = (max - min) / Top;
    const float id = d != 0.f ? 1.0f / d : 0.0f;
    y.d = floatToHalf(d);
    y.m = floatToHalf(min);
    for (int j = 0; j < kQK; ++j) {
        const int q = truncToInt8Range((x[j] - min) * id + 0.5f);
        // Q4_1 caps at 15; Q5_1 casts to uint8 uncapped (the code cannot pass 31 there).
        codes[j] = Top == 15 ? std::min(15, q) : static_cast<std::uint8_t>(q);
    }
}

// Q8_0 and Q8_1: d = amax / 127, codes roundf(x / d).
template <typename Block>
float quantize8(const float* x, Block& y) {
    float amax = 0.f;
    for (int j = 0; j < kQK; ++j) amax = std::max(amax, std::fabs(x[j]));
    const float d = amax / 127;
    const float id = d != 0.f ? 1.0f / d : 0.0f;
    y.d = floatToHalf(d);
    for (int j = 0; j < kQK; ++j) y.qs[j] = static_cast<std::int8_t>(roundToInt8Range(x[j] * id));
    return d;
}

int dot32(const int* q, int offset, const std::int8_t* a) {
    int sum = 0;
    for (int j = 0; j < kQK; ++j) sum += (q[j] - offset) * a[j];
    return sum;
}

}  // namespace

void toFloatQ4_0(const std::byte* blocks, float* out, std::int64_t n) {
    const auto* x = blocksOf<BlockQ4_0>(blocks);
    int q[kQK];
    for (std::int64_t i = 0; i < n / kQK; ++i, out += kQK) {
        const float d = halfToFloat(x[i].d);
        codes4(x[i], q);
        for (int j = 0; j < kQK; ++j) out[j] = static_cast<float>(q[j] - 8) * d;
    }
}

void toFloatQ4_1(const std::byte* blocks, float* out, std::int64_t n) {
    const auto* x = blocksOf<BlockQ4_1>(blocks);
    int q[kQK];
    for (std::int64_t i = 0; i < n / kQK; ++i, out += kQK) {
        const float d = halfToFloat(x[i].d), m = halfToFloat(x[i].m);
        codes4(x[i], q);
        for (int j = 0; j < kQK; ++j) out[j] = static_cast<float>(q[j]) * d + m;
    }
}

void toFloatQ5_0(const std::byte* blocks, float* out, std::int64_t n) {
    const auto* x = blocksOf<BlockQ5_0>(blocks);
    int q[kQK];
    for (std::int64_t i = 0; i < n / kQK; ++i, out += kQK) {
        const float d = halfToFloat(x[i].d);
        codes5(x[i], q);
        for (int j = 0; j < kQK; ++j) out[j] = static_cast<float>(q[j] - 16) * d;
    }
}

void toFloatQ5_1(const std::byte* blocks, float* out, std::int64_t n) {
    const auto* x = blocksOf<BlockQ5_1>(blocks);
    int q[kQK];
    for (std::int64_t i = 0; i < n / kQK; ++i, out += kQK) {
        const float d = halfToFloat(x[i].d), m = halfToFloat(x[i].m);
        codes5(x[i], q);
        for (int j = 0; j < kQK; ++j) out[j] = static_cast<float>(q[j]) * d + m;
    }
}

void toFloatQ8_0(const std::byte* blocks, float* out, std::int64_t n) {
    const auto* x = blocksOf<BlockQ8_0>(blocks);
    for (std::int64_t i = 0; i < n / kQK; ++i, out += kQK) {
        const float d = halfToFloat(x[i].d);
        for (int j = 0; j < kQK; ++j) out[j] = static_cast<float>(x[i].qs[j]) * d;
    }
}

// ggml has no decoder for Q8_1; its values are those of Q8_0 (s is a by-product).
void toFloatQ8_1(const std::byte* blocks, float* out, std::int64_t n) {
    const auto* x = blocksOf<BlockQ8_1>(blocks);
    for (std::int64_t i = 0; i < n / kQK; ++i, out += kQK) {
        const float d = halfToFloat(x[i].d);
        for (int j = 0; j < kQK; ++j) out[j] = static_cast<float>(x[i].qs[j]) * d;
    }
}

void fromFloatQ4_0Ref(const float* in, std::byte* blocks, std::int64_t n) {
    auto* y = blocksOf<BlockQ4_0>(blocks);
    int q[kQK];
    for (std::int64_t i = 0; i < n / kQK; ++i) {
        quantizeSymmetric<BlockQ4_0, 8>(in + i * kQK, y[i], q);
        for (int j = 0; j < kQK / 2; ++j)
            y[i].qs[j] = static_cast<std::uint8_t>(q[j] | (q[j + kQK / 2] << 4));
    }
}

void fromFloatQ5_0Ref(const float* in, std::byte* blocks, std::int64_t n) {
    auto* y = blocksOf<BlockQ5_0>(blocks);
    int q[kQK];
    for (std::int64_t i = 0; i < n / kQK; ++i) {
        quantizeSymmetric<BlockQ5_0, 16>(in + i * kQK, y[i], q);
        packCodes5(y[i], q);
    }
}

void fromFloatQ4_1Ref(const float* in, std::byte* blocks, std::int64_t n) {
    auto* y = blocksOf<BlockQ4_1>(blocks);
    int q[kQK];
    for (std::int64_t i = 0; i < n / kQK; ++i) {
        quantizeWithMin<BlockQ4_1, 15>(in + i * kQK, y[i], q);
        for (int j = 0; j < kQK / 2; ++j)
            y[i].qs[j] = static_cast<std::uint8_t>(q[j] | (q[j + kQK / 2] << 4));
    }
}

void fromFloatQ5_1Ref(const float* in, std::byte* blocks, std::int64_t n) {
    auto* y = blocksOf<BlockQ5_1>(blocks);
    int q[kQK];
    for (std::int64_t i = 0; i < n / kQK; ++i) {
        quantizeWithMin<BlockQ5_1, 31>(in + i * kQK, y[i], q);
        packCodes5(y[i], q);
    }
}

void fromFloatQ8_0Ref(const float* in, std::byte* blocks, std::int64_t n) {
    auto* y = blocksOf<BlockQ8_0>(blocks);
    for (std::int64_t i = 0; i < n / kQK; ++i) quantize8(in + i * kQK, y[i]);
}

void fromFloatQ8_1Ref(const float* in, std::byte* blocks, std::int64_t n) {
    auto* y = blocksOf<BlockQ8_1>(blocks);
    for (std::int64_t i = 0; i < n / kQK; ++i) {
        const float d = quantize8(in + i * kQK, y[i]);
        int sum = 0;
        for (int j = 0; j < kQK; ++j) sum += y[i].qs[j];
        y[i].s = floatToHalf(static_cast<float>(sum) * d);
    }
}

float dotQ4_0Ref(const std::byte* w, const std::byte* a, std::int64_t n) {
    const auto* x = blocksOf<BlockQ4_0>(w);
    const auto* y = blocksOf<BlockQ8_0>(a);
    float sum = 0.f;
    int q[kQK];
    for (std::int64_t i = 0; i < n / kQK; ++i) {
        codes4(x[i], q);
        sum += halfToFloat(x[i].d) * halfToFloat(y[i].d) * static_cast<float>(dot32(q, 8, y[i].qs));
    }
    return sum;
}

float dotQ5_0Ref(const std::byte* w, const std::byte* a, std::int64_t n) {
    const auto* x = blocksOf<BlockQ5_0>(w);
    const auto* y = blocksOf<BlockQ8_0>(a);
    float sum = 0.f;
    int q[kQK];
    for (std::int64_t i = 0; i < n / kQK; ++i) {
        codes5(x[i], q);
        sum +=
            halfToFloat(x[i].d) * halfToFloat(y[i].d) * static_cast<float>(dot32(q, 16, y[i].qs));
    }
    return sum;
}

float dotQ4_1Ref(const std::byte* w, const std::byte* a, std::int64_t n) {
    const auto* x = blocksOf<BlockQ4_1>(w);
    const auto* y = blocksOf<BlockQ8_1>(a);
    float sum = 0.f;
    int q[kQK];
    for (std::int64_t i = 0; i < n / kQK; ++i) {
        codes4(x[i], q);
        sum +=
            halfToFloat(x[i].d) * halfToFloat(y[i].d) * static_cast<float>(dot32(q, 0, y[i].qs)) +
            halfToFloat(x[i].m) * halfToFloat(y[i].s);
    }
    return sum;
}

float dotQ5_1Ref(const std::byte* w, const std::byte* a, std::int64_t n) {
    const auto* x = blocksOf<BlockQ5_1>(w);
    const auto* y = blocksOf<BlockQ8_1>(a);
    float sum = 0.f;
    int q[kQK];
    for (std::int64_t i = 0; i < n / kQK; ++i) {
        codes5(x[i], q);
        sum +=
            halfToFloat(x[i].d) * halfToFloat(y[i].d) * static_cast<float>(dot32(q, 0, y[i].qs)) +
            halfToFloat(x[i].m) * halfToFloat(y[i].s);
    }
    return sum;
}

float dotQ8_0Ref(const std::byte* w, const std::byte* a, std::int64_t n) {
    const auto* x = blocksOf<BlockQ8_0>(w);
    const auto* y = blocksOf<BlockQ8_0>(a);
    float sum = 0.f;
    for (std::int64_t i = 0; i < n / kQK; ++i) {
        int s = 0;
        for (int j = 0; j < kQK; ++j) s += x[i].qs[j] * y[i].qs[j];
        sum += halfToFloat(x[i].d) * halfToFloat(y[i].d) * static_cast<float>(s);
    }
    return sum;
}

}  // namespace cwb::quant::detail
