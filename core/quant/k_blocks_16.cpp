// The K formats with sub-blocks of 16 values: Q2_K (4-bit scale and minimum per sub-block),
// Q3_K (signed 6-bit scales packed in 12 bytes) and Q6_K (int8 scales). Exact decoding,
// llama.cpp's reference quantizers and the reference dot products with Q8_K activations.
#include <algorithm>
#include <type_traits>

#include "core/quant/block_layouts.h"
#include "core/quant/fp16.h"
#include "core/quant/k_encode.h"
#include "core/quant/k_quant_search.h"
#include "core/quant/k_scales.h"
#include "core/quant/kernels.h"

namespace cwb::quant::detail {
namespace {

// 2-bit fields of Q2_K and Q3_K: value e of a 128-value half h sits in byte 32 h + e % 32 of
// qs, at bits 2 * ((e % 128) / 32).
int twoBits(const std::uint8_t* qs, int e) {
    return (qs[32 * (e / 128) + e % 32] >> (2 * ((e % 128) / 32))) & 3;
}
void packTwoBits(const std::uint8_t* codes, std::uint8_t* qs) {
    for (int h = 0; h < kQKK; h += 128)
        for (int l = 0; l < 32; ++l)
            qs[h / 4 + l] =
                static_cast<std::uint8_t>(codes[h + l] | (codes[h + l + 32] << 2) |
                                          (codes[h + l + 64] << 4) | (codes[h + l + 96] << 6));
}

// Q3_K's code of value e in [-4, 3]: two bits, less 4 where the value's hmask bit is clear.
int codeQ3(const BlockQ3_K& b, int e) {
    const bool high = b.hmask[e % 32] & (1u << (e / 32));
    return twoBits(b.qs, e) - (high ? 0 : 4);
}
// Q6_K's code of value e in [-32, 31]: in each half of 128, quarter k of 32 takes the low or
// high nibble of ql[l] or ql[l + 32] and bits 2k of qh[l].
int codeQ6(const BlockQ6_K& b, int e) {
    const int h = e / 128, k = (e % 128) / 32, l = e % 32;
    const std::uint8_t lowByte = b.ql[64 * h + l + 32 * (k & 1)];
    const int low = k < 2 ? lowByte & 0xf : lowByte >> 4;
    return (low | (((b.qh[32 * h + l] >> (2 * k)) & 3) << 4)) - 32;
}

// The codes of 16 sub-blocks of 16 values for the block's rounded scales d x scaleOf(j), in
// [-offset, offset - 1], stored + offset; a sub-block whose scale is 0 keeps its codes.
template <typename ScaleOf>
void requantize(const float* x, float d, ScaleOf scaleOf, int offset, std::int8_t* codes) {
    for (int j = 0; j < 16; ++j) {
        const float dl = d * static_cast<float>(scaleOf(j));
        if (dl == 0.f) continue;
        for (int l = 0; l < 16; ++l)
            codes[16 * j + l] = static_cast<std::int8_t>(
                std::clamp(nearestInt(x[16 * j + l] / dl), -offset, offset - 1) + offset);
    }
}

int dot16(const int* q, const std::int8_t* a) {
    int sum = 0;
    for (int l = 0; l < 16; ++l) sum += q[l] * a[l];
    return sum;
}

int code16(const BlockQ2_K& b, int e) { return twoBits(b.qs, e); }
int code16(const BlockQ3_K& b, int e) { return codeQ3(b, e); }
int code16(const BlockQ6_K& b, int e) { return codeQ6(b, e); }
int scale16(const BlockQ2_K& b, int j) { return b.scales[j] & 0xf; }
int scale16(const BlockQ3_K& b, int j) { return scaleQ3(b.scales, j); }
int scale16(const BlockQ6_K& b, int j) { return b.scales[j]; }

// Q3_K and Q6_K decoded: d x scale x code per sub-block of 16.
template <typename Block>
void toFloatSigned16(const std::byte* blocks, float* out, std::int64_t n) {
    const auto* x = blocksOf<Block>(blocks);
    for (std::int64_t i = 0; i < n / kQKK; ++i) {
        const float d = halfToFloat(x[i].d);
        for (int e = 0; e < kQKK; ++e)
            *out++ =
                d * static_cast<float>(scale16(x[i], e / 16)) * static_cast<float>(code16(x[i], e));
    }
}

// The reference dot product of the formats with sub-blocks of 16: the exact integer sum of
// scale x (codes . activations) per super-block; Q2_K's minimums through the bsums.
template <typename Block>
float dotRef16(const std::byte* w, const std::byte* a, std::int64_t n) {
    constexpr bool hasMins = std::is_same_v<Block, BlockQ2_K>;
    const auto* x = blocksOf<Block>(w);
    const auto* y = blocksOf<BlockQ8_K>(a);
    float sum = 0.f;
    int q[16];
    for (std::int64_t i = 0; i < n / kQKK; ++i) {
        int scaled = 0, mins = 0;
        for (int j = 0; j < 16; ++j) {
            for (int l = 0; l < 16; ++l) q[l] = code16(x[i], 16 * j + l);
            scaled += scale16(x[i], j) * dot16(q, y[i].qs + 16 * j);
            if constexpr (hasMins) mins += (x[i].scales[j] >> 4) * y[i].bsums[j];
        }
        const float term = halfToFloat(x[i].d) * y[i].d * static_cast<float>(scaled);
        if constexpr (hasMins)
            sum += term - y[i].d * halfToFloat(x[i].dmin) * static_cast<float>(mins);
        else
            sum += term;
    }
    return sum;
}

}  // namespace

// ---- Q2_K

void toFloatQ2_K(const std::byte* blocks, float* out, std::int64_t n) {
    const auto* x = blocksOf<BlockQ2_K>(blocks);
    for (std::int64_t i = 0; i < n / kQKK; ++i) {
        const float d = halfToFloat(x[i].d), min = halfToFloat(x[i].dmin);
        for (int e = 0; e < kQKK; ++e) {
            const std::uint8_t sc = x[i].scales[e / 16];
            const float dl = d * static_cast<float>(sc & 0xf),
                        ml = min * static_cast<float>(sc >> 4);
            *out++ = dl * static_cast<float>(twoBits(x[i].qs, e)) - ml;
        }
    }
}

void scalesQ2K(const float* scales, const float* mins, BlockQ2_K& y) {
    constexpr float kQ4Scale = 15.f;
    float maxScale = 0, maxMin = 0;
    for (int j = 0; j < 16; ++j) {
        if (scales[j] > maxScale) maxScale = scales[j];
        if (mins[j] > maxMin) maxMin = mins[j];
    }
    if (maxScale > 0) {
        const float iscale = kQ4Scale / maxScale;
        for (int j = 0; j < 16; ++j)
            y.scales[j] = static_cast<std::uint8_t>(nearestInt(iscale * scales[j]));
        y.d = floatToHalf(maxScale / kQ4Scale);
    } else {
        std::fill(y.scales, y.scales + 16, std::uint8_t{0});
        y.d = floatToHalf(0.f);
    }
    if (maxMin > 0) {
        const float iscale = kQ4Scale / maxMin;
        for (int j = 0; j < 16; ++j)
            y.scales[j] |= static_cast<std::uint8_t>(nearestInt(iscale * mins[j]) << 4);
        y.dmin = floatToHalf(maxMin / kQ4Scale);
    } else {
        y.dmin = floatToHalf(0.f);
    }
}

void subScalesQ2K(const BlockQ2_K& y, int j, float& scale, float& min) {
    scale = halfToFloat(y.d) * static_cast<float>(y.scales[j] & 0xf);
    min = halfToFloat(y.dmin) * static_cast<float>(y.scales[j] >> 4);
}

// Codes again against the scales as stored.
void finishQ2K(const float* x, std::uint8_t* codes, BlockQ2_K& y) {
    for (int j = 0; j < 16; ++j) {
        float d, dm;
        subScalesQ2K(y, j, d, dm);
        if (d == 0.f) continue;
        for (int l = 0; l < 16; ++l)
            codes[16 * j + l] =
                static_cast<std::uint8_t>(std::clamp(nearestInt((x[16 * j + l] + dm) / d), 0, 3));
    }
    packTwoBits(codes, y.qs);
}

void fromFloatQ2_KRef(const float* x, std::byte* blocks, std::int64_t n) {
    auto* y = blocksOf<BlockQ2_K>(blocks);
    std::uint8_t codes[kQKK];
    float weights[16], mins[16], scales[16];
    for (std::int64_t i = 0; i < n / kQKK; ++i, x += kQKK) {
        for (int j = 0; j < 16; ++j) {
            for (int l = 0; l < 16; ++l) weights[l] = std::fabs(x[16 * j + l]);
            scales[j] = makeQkx2Quants(16, 3, x + 16 * j, weights, codes + 16 * j, &mins[j], -0.5f,
                                       0.1f, 15, true);
        }
        scalesQ2K(scales, mins, y[i]);
        finishQ2K(x, codes, y[i]);
    }
}

float dotQ2_KRef(const std::byte* w, const std::byte* a, std::int64_t n) {
    return dotRef16<BlockQ2_K>(w, a, n);
}

// ---- Q3_K

void toFloatQ3_K(const std::byte* blocks, float* out, std::int64_t n) {
    toFloatSigned16<BlockQ3_K>(blocks, out, n);
}

void scalesQ3K(const float* scales, BlockQ3_K& y) {
    float amax;
    const float maxScale = signedAbsMax(scales, 16, amax);
    std::fill(y.scales, y.scales + 12, std::uint8_t{0});
    if (maxScale != 0.f) {
        const float iscale = -32.f / maxScale;
        for (int j = 0; j < 16; ++j) {
            const auto l8 = static_cast<std::int8_t>(nearestInt(iscale * scales[j]));
            const int l = std::clamp<int>(l8, -32, 31) + 32;
            if (j < 8)
                y.scales[j] = static_cast<std::uint8_t>(l & 0xf);
            else
                y.scales[j - 8] |= static_cast<std::uint8_t>((l & 0xf) << 4);
            y.scales[j % 4 + 8] |= static_cast<std::uint8_t>((l >> 4) << (2 * (j / 4)));
        }
        y.d = floatToHalf(1 / iscale);
    } else {
        y.d = floatToHalf(0.f);
    }
}

float subScaleQ3K(const BlockQ3_K& y, int j) {
    return halfToFloat(y.d) * static_cast<float>(scaleQ3(y.scales, j));
}

void finishQ3K(const float* x, std::int8_t* codes, BlockQ3_K& y) {
    requantize(
        x, halfToFloat(y.d), [&](int j) { return scaleQ3(y.scales, j); }, 4, codes);
    // The third bit of value e goes to bit e / 32 of hmask[e % 32].
    std::fill(y.hmask, y.hmask + 32, std::uint8_t{0});
    std::uint8_t low[kQKK];
    for (int e = 0; e < kQKK; ++e) {
        int c = codes[e];
        if (c > 3) {
            y.hmask[e % 32] |= static_cast<std::uint8_t>(1u << (e / 32));
            c -= 4;
        }
        low[e] = static_cast<std::uint8_t>(c);
    }
    packTwoBits(low, y.qs);
}

void fromFloatQ3_KRef(const float* x, std::byte* blocks, std::int64_t n) {
    auto* y = blocksOf<BlockQ3_K>(blocks);
    std::int8_t codes[kQKK];
    float scales[16];
    for (std::int64_t i = 0; i < n / kQKK; ++i, x += kQKK) {
        for (int j = 0; j < 16; ++j) scales[j] = makeQ3Quants(16, 4, x + 16 * j, codes + 16 * j);
        scalesQ3K(scales, y[i]);
        finishQ3K(x, codes, y[i]);
    }
}

float dotQ3_KRef(const std::byte* w, const std::byte* a, std::int64_t n) {
    return dotRef16<BlockQ3_K>(w, a, n);
}

// ---- Q6_K

void toFloatQ6_K(const std::byte* blocks, float* out, std::int64_t n) {
    toFloatSigned16<BlockQ6_K>(blocks, out, n);
}

bool scalesQ6K(const float* scales, BlockQ6_K& y) {
    float maxAbsScale;
    const float maxScale = signedAbsMax(scales, 16, maxAbsScale);
    if (maxAbsScale < 1e-15f) {
        std::memset(&y, 0, sizeof(BlockQ6_K));
        return false;
    }
    const float iscale = -128.f / maxScale;
    y.d = floatToHalf(1 / iscale);
    for (int j = 0; j < 16; ++j)
        y.scales[j] = static_cast<std::int8_t>(std::min(127, nearestInt(iscale * scales[j])));
    return true;
}

float subScaleQ6K(const BlockQ6_K& y, int j) {
    return halfToFloat(y.d) * static_cast<float>(y.scales[j]);
}

void finishQ6K(const float* x, std::int8_t* codes, BlockQ6_K& y) {
    requantize(
        x, halfToFloat(y.d), [&](int j) { return int{y.scales[j]}; }, 32, codes);
    for (int h = 0; h < 2; ++h) {
        const std::int8_t* c = codes + 128 * h;
        std::uint8_t* ql = y.ql + 64 * h;
        std::uint8_t* qh = y.qh + 32 * h;
        for (int l = 0; l < 32; ++l) {
            ql[l] = static_cast<std::uint8_t>((c[l] & 0xf) | ((c[l + 64] & 0xf) << 4));
            ql[l + 32] = static_cast<std::uint8_t>((c[l + 32] & 0xf) | ((c[l + 96] & 0xf) << 4));
            qh[l] = static_cast<std::uint8_t>((c[l] >> 4) | ((c[l + 32] >> 4) << 2) |
                                              ((c[l + 64] >> 4) << 4) | ((c[l + 96] >> 4) << 6));
        }
    }
}

void fromFloatQ6_KRef(const float* x, std::byte* blocks, std::int64_t n) {
    auto* y = blocksOf<BlockQ6_K>(blocks);
    std::int8_t codes[kQKK];
    float scales[16];
    for (std::int64_t i = 0; i < n / kQKK; ++i, x += kQKK) {
        for (int j = 0; j < 16; ++j) scales[j] = makeQxQuants(16, 32, x + 16 * j, codes + 16 * j);
        if (scalesQ6K(scales, y[i])) finishQ6K(x, codes, y[i]);
    }
}

float dotQ6_KRef(const std::byte* w, const std::byte* a, std::int64_t n) {
    return dotRef16<BlockQ6_K>(w, a, n);
}

}  // namespace cwb::quant::detail
