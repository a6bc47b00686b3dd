// The K formats with sub-blocks of 32 values, Q4_K and Q5_K (a 6-bit scale and 6-bit minimum
// per sub-block, packed in 12 bytes), and Q8_K, the activations of every K format: exact
// decoding, llama.cpp's reference quantizers and the reference dot products.
#include <algorithm>

#include "core/quant/block_layouts.h"
#include "core/quant/fp16.h"
#include "core/quant/k_encode.h"
#include "core/quant/k_quant_search.h"
#include "core/quant/k_scales.h"
#include "core/quant/kernels.h"

namespace cwb::quant::detail {
namespace {

void packScaleMinK4(std::uint8_t* s, const std::uint8_t* scales, const std::uint8_t* mins) {
    for (int j = 0; j < 8; ++j) {
        if (j < 4) {
            s[j] = scales[j];
            s[j + 4] = mins[j];
        } else {
            s[j + 4] = static_cast<std::uint8_t>((scales[j] & 0xf) | ((mins[j] & 0xf) << 4));
            s[j - 4] |= static_cast<std::uint8_t>((scales[j] >> 4) << 6);
            s[j] |= static_cast<std::uint8_t>((mins[j] >> 4) << 6);
        }
    }
}

// Value e of Q4_K/Q5_K: chunk c = e / 64 of 32 bytes, the low nibble for its first 32
// values and the high nibble for the next 32; Q5_K's fifth bit is bit 2c (or 2c + 1) of
// qh[e % 32].
int nibble(const std::uint8_t* qs, int e) {
    const std::uint8_t b = qs[32 * (e / 64) + e % 32];
    return (e % 64) < 32 ? b & 0xf : b >> 4;
}
int codeQ5(const BlockQ5_K& b, int e) {
    return nibble(b.qs, e) | (((b.qh[e % 32] >> (e / 32)) & 1) << 4);
}

// The stored scales of Q4_K and Q5_K: 6-bit codes for the sub-blocks' scales and minima
// against their maxima.
template <typename Block>
void scalesScaleMin(const float* scales, const float* mins, Block& y) {
    float maxScale = 0, maxMin = 0;
    for (int j = 0; j < 8; ++j) {
        if (scales[j] > maxScale) maxScale = scales[j];
        if (mins[j] > maxMin) maxMin = mins[j];
    }
    const float invScale = maxScale > 0 ? 63.f / maxScale : 0.f;
    const float invMin = maxMin > 0 ? 63.f / maxMin : 0.f;
    std::uint8_t ls[8], lm[8];
    for (int j = 0; j < 8; ++j) {
        ls[j] =
            std::min<std::uint8_t>(63, static_cast<std::uint8_t>(nearestInt(invScale * scales[j])));
        lm[j] = std::min<std::uint8_t>(63, static_cast<std::uint8_t>(nearestInt(invMin * mins[j])));
    }
    packScaleMinK4(y.scales, ls, lm);
    y.d = floatToHalf(maxScale / 63.f);
    y.dmin = floatToHalf(maxMin / 63.f);
}

template <typename Block>
void subScalesScaleMin(const Block& y, int j, float& scale, float& min) {
    int sc, m;
    scaleMinK4(y.scales, j, sc, m);
    scale = halfToFloat(y.d) * static_cast<float>(sc);
    min = halfToFloat(y.dmin) * static_cast<float>(m);
}

// Dot product of one Q4_K/Q5_K block with a Q8_K block, given the block's codes.
template <typename Block, typename Code>
float dotScaleMin(const Block& b, const BlockQ8_K& a, Code code) {
    int scaled = 0, mins = 0;
    for (int j = 0; j < 8; ++j) {
        int sc, m;
        scaleMinK4(b.scales, j, sc, m);
        int s = 0;
        for (int l = 0; l < 32; ++l) s += code(32 * j + l) * a.qs[32 * j + l];
        scaled += sc * s;
        mins += m * (a.bsums[2 * j] + a.bsums[2 * j + 1]);
    }
    return a.d * halfToFloat(b.d) * static_cast<float>(scaled) -
           a.d * halfToFloat(b.dmin) * static_cast<float>(mins);
}

int codeK(const BlockQ4_K& b, int e) { return nibble(b.qs, e); }
int codeK(const BlockQ5_K& b, int e) { return codeQ5(b, e); }

// Q4_K and Q5_K decoded: d x scale x code - dmin x min per sub-block of 32.
template <typename Block>
void toFloatScaleMin(const std::byte* blocks, float* out, std::int64_t n) {
    const auto* x = blocksOf<Block>(blocks);
    for (std::int64_t i = 0; i < n / kQKK; ++i) {
        const float d = halfToFloat(x[i].d), min = halfToFloat(x[i].dmin);
        for (int j = 0; j < 8; ++j) {
            int sc, m;
            scaleMinK4(x[i].scales, j, sc, m);
            const float dl = d * static_cast<float>(sc), ml = min * static_cast<float>(m);
            for (int l = 0; l < 32; ++l)
                *out++ = dl * static_cast<float>(codeK(x[i], 32 * j + l)) - ml;
        }
    }
}

// The codes of a super-block (0..15 or 0..31) into the block's nibbles (and fifth bits).
void packCodes(const std::uint8_t* codes, BlockQ4_K& b) {
    for (int c = 0; c < 4; ++c)
        for (int l = 0; l < 32; ++l)
            b.qs[32 * c + l] =
                static_cast<std::uint8_t>(codes[64 * c + l] | (codes[64 * c + l + 32] << 4));
}
void packCodes(const std::uint8_t* codes, BlockQ5_K& b) {
    std::fill(b.qh, b.qh + 32, std::uint8_t{0});
    for (int c = 0; c < 4; ++c)
        for (int l = 0; l < 32; ++l) {
            const int lo = codes[64 * c + l], hi = codes[64 * c + l + 32];
            b.qh[l] |=
                static_cast<std::uint8_t>(((lo >> 4) << (2 * c)) | ((hi >> 4) << (2 * c + 1)));
            b.qs[32 * c + l] = static_cast<std::uint8_t>((lo & 0xf) | ((hi & 0xf) << 4));
        }
}

// The codes again against the stored scales, then the block's codes.
template <typename Block, int Nmax>
void finishScaleMin(const float* x, std::uint8_t* codes, Block& y) {
    for (int j = 0; j < 8; ++j) {
        float d, dm;
        subScalesScaleMin(y, j, d, dm);
        if (d == 0.f) continue;
        for (int l = 0; l < 32; ++l)
            codes[32 * j + l] = static_cast<std::uint8_t>(
                std::clamp(nearestInt((x[32 * j + l] + dm) / d), 0, Nmax));
    }
    packCodes(codes, y);
}

// Q4_K and Q5_K by llama.cpp's reference rule: a scale and minimum per sub-block of 32 from
// make_qkx2_quants with weights av_x + |x| (codes 0..Nmax, its rmin and steps), the stored
// scales, then the codes again against them.
template <typename Block, int Nmax>
void fromFloatScaleMin(const float* x, std::byte* blocks, std::int64_t n, float rmin, int steps) {
    auto* y = blocksOf<Block>(blocks);
    std::uint8_t codes[kQKK];
    float weights[32], mins[8], scales[8];
    for (std::int64_t i = 0; i < n / kQKK; ++i, x += kQKK) {
        for (int j = 0; j < 8; ++j) {
            const float* xs = x + 32 * j;
            float sumX2 = 0;
            for (int l = 0; l < 32; ++l) sumX2 += xs[l] * xs[l];
            const float avX = std::sqrt(sumX2 / 32);
            for (int l = 0; l < 32; ++l) weights[l] = avX + std::fabs(xs[l]);
            scales[j] = makeQkx2Quants(32, Nmax, xs, weights, codes + 32 * j, &mins[j], rmin, 0.1f,
                                       steps, false);
        }
        scalesScaleMin(scales, mins, y[i]);
        finishScaleMin<Block, Nmax>(x, codes, y[i]);
    }
}

template <typename Block>
float dotRefScaleMin(const std::byte* w, const std::byte* a, std::int64_t n) {
    const auto* x = blocksOf<Block>(w);
    const auto* y = blocksOf<BlockQ8_K>(a);
    float sum = 0.f;
    for (std::int64_t i = 0; i < n / kQKK; ++i)
        sum += dotScaleMin(x[i], y[i], [&](int e) { return codeK(x[i], e); });
    return sum;
}

}  // namespace

// ---- Q4_K and Q5_K: kernels.h's entry points, the rule's maximum code, rmin and steps

#define CWB_SCALE_MIN_FORMAT(T, NMAX, RMIN, STEPS)                              \
    void toFloat##T(const std::byte* blocks, float* out, std::int64_t n) {      \
        toFloatScaleMin<Block##T>(blocks, out, n);                              \
    }                                                                           \
    void fromFloat##T##Ref(const float* x, std::byte* blocks, std::int64_t n) { \
        fromFloatScaleMin<Block##T, NMAX>(x, blocks, n, RMIN, STEPS);           \
    }                                                                           \
    float dot##T##Ref(const std::byte* w, const std::byte* a, std::int64_t n) { \
        return dotRefScaleMin<Block##T>(w, a, n);                               \
    }
CWB_SCALE_MIN_FORMAT(Q4_K, 15, -1.f, 20)
CWB_SCALE_MIN_FORMAT(Q5_K, 31, -0.5f, 15)
#undef CWB_SCALE_MIN_FORMAT

void scalesQ4K(const float* scales, const float* mins, BlockQ4_K& y) {
    scalesScaleMin(scales, mins, y);
}
void scalesQ5K(const float* scales, const float* mins, BlockQ5_K& y) {
    scalesScaleMin(scales, mins, y);
}
void subScalesQ4K(const BlockQ4_K& y, int j, float& scale, float& min) {
    subScalesScaleMin(y, j, scale, min);
}
void subScalesQ5K(const BlockQ5_K& y, int j, float& scale, float& min) {
    subScalesScaleMin(y, j, scale, min);
}
void finishQ4K(const float* x, std::uint8_t* codes, BlockQ4_K& y) {
    finishScaleMin<BlockQ4_K, 15>(x, codes, y);
}
void finishQ5K(const float* x, std::uint8_t* codes, BlockQ5_K& y) {
    finishScaleMin<BlockQ5_K, 31>(x, codes, y);
}

// ---- Q8_K

void toFloatQ8_K(const std::byte* blocks, float* out, std::int64_t n) {
    const auto* x = blocksOf<BlockQ8_K>(blocks);
    for (std::int64_t i = 0; i < n / kQKK; ++i)
        for (int e = 0; e < kQKK; ++e) *out++ = x[i].d * static_cast<float>(x[i].qs[e]);
}

// Sums of 16 codes are written for every block (llama.cpp leaves them unset in an all-zero
// block; zero here).
void fromFloatQ8_KRef(const float* x, std::byte* blocks, std::int64_t n) {
    auto* y = blocksOf<BlockQ8_K>(blocks);
    for (std::int64_t i = 0; i < n / kQKK; ++i, x += kQKK) {
        float amax;
        const float max = signedAbsMax(x, kQKK, amax);
        if (amax == 0.f) {
            std::memset(&y[i], 0, sizeof(BlockQ8_K));
            continue;
        }
        const float iscale = -127.f / max;
        for (int e = 0; e < kQKK; ++e)
            y[i].qs[e] = static_cast<std::int8_t>(std::min(127, nearestInt(iscale * x[e])));
        for (int j = 0; j < 16; ++j) {
            int sum = 0;
            for (int l = 0; l < 16; ++l) sum += y[i].qs[16 * j + l];
            y[i].bsums[j] = static_cast<std::int16_t>(sum);
        }
        y[i].d = 1 / iscale;
    }
}

}  // namespace cwb::quant::detail
