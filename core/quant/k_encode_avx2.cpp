// The K formats encoded with AVX2: the vector sub-block searches (k_search_avx2.h), then the
// reference's own super-block steps (k_encode.h), so the bytes are the reference's. The
// squared-error kernels stop after the stored scales: they decode the codes they would
// write, in registers, and never write a block. A super-block holding a NaN or an infinity,
// or one whose search leaves its exact range, goes through the reference quantizer.
#include "core/quant/avx2_encode.h"
#include "core/quant/block_formats.h"
#include "core/quant/block_layouts.h"
#include "core/quant/k_encode.h"
#include "core/quant/k_search_avx2.h"
#include "core/quant/kernels.h"

namespace cwb::quant::detail {
namespace {

using namespace avx2;

CWB_QUANT_AVX2 bool finite(const float* x, int n) {
    __m256 bad = _mm256_setzero_ps();
    for (int i = 0; i < n; i += 8) bad = nonFiniteBits(bad, _mm256_loadu_ps(x + i));
    return allFinite(bad);
}

// The squared error of one super-block by the reference quantizer and decoder.
double referenceError(DType type, const float* x) {
    return blockFormat(type).squaredError[static_cast<int>(Isa::Scalar)](x, kQKK);
}

// Values decoded as scale * code - min, codes nearest_int((x + min) / scale) in [0, top]
// (Q2_K, Q4_K, Q5_K); a scale of 0 decodes every code to -min. n is 16 or 32; two vectors at
// a time feed the two accumulator pairs.
CWB_QUANT_AVX2 void errorScaleMin(const float* x, int n, float scale, float min, int top,
                                  SquaredError& s) {
    const __m256 vmin = _mm256_set1_ps(min), vscale = _mm256_set1_ps(scale);
    for (int i = 0; i < n; i += 16) {
        __m256 v[2], back[2];
        for (int k = 0; k < 2; ++k) {
            v[k] = _mm256_loadu_ps(x + i + 8 * k);
            if (scale == 0.f) {
                back[k] = _mm256_set1_ps(0.f - min);
            } else {
                const __m256 q =
                    nearestClamped(_mm256_div_ps(_mm256_add_ps(v[k], vmin), vscale), 0, top);
                back[k] = _mm256_sub_ps(_mm256_mul_ps(vscale, q), vmin);
            }
        }
        addError<0>(s, back[0], v[0]);
        addError<1>(s, back[1], v[1]);
    }
}

// Values decoded as scale * code, codes nearest_int(x / scale) in [-half, half - 1] (Q3_K,
// Q6_K); a scale of 0 decodes to 0. n is a multiple of 16.
CWB_QUANT_AVX2 void errorSigned(const float* x, int n, float scale, int half, SquaredError& s) {
    const __m256 vscale = _mm256_set1_ps(scale);
    for (int i = 0; i < n; i += 16) {
        __m256 v[2], back[2];
        for (int k = 0; k < 2; ++k) {
            v[k] = _mm256_loadu_ps(x + i + 8 * k);
            back[k] = scale == 0.f
                          ? _mm256_setzero_ps()
                          : _mm256_mul_ps(vscale, nearestClamped(_mm256_div_ps(v[k], vscale), -half,
                                                                 half - 1));
        }
        addError<0>(s, back[0], v[0]);
        addError<1>(s, back[1], v[1]);
    }
}

// ---- Q4_K and Q5_K: two super-blocks per search where the row has them (16 lanes keep the
// sums' latency hidden), one for an odd last one.

template <typename Block, int Nmax>
struct ScaleMinFormat;
template <>
struct ScaleMinFormat<BlockQ4_K, 15> {
    static constexpr DType kType = DType::Q4_K;
    static constexpr float kRmin = -1.f;
    static constexpr int kSteps = 20;
    static void scales(const float* s, const float* m, BlockQ4_K& y) { scalesQ4K(s, m, y); }
    static void sub(const BlockQ4_K& y, int j, float& s, float& m) { subScalesQ4K(y, j, s, m); }
    static void finish(const float* x, std::uint8_t* c, BlockQ4_K& y) { finishQ4K(x, c, y); }
};
template <>
struct ScaleMinFormat<BlockQ5_K, 31> {
    static constexpr DType kType = DType::Q5_K;
    static constexpr float kRmin = -0.5f;
    static constexpr int kSteps = 15;
    static void scales(const float* s, const float* m, BlockQ5_K& y) { scalesQ5K(s, m, y); }
    static void sub(const BlockQ5_K& y, int j, float& s, float& m) { subScalesQ5K(y, j, s, m); }
    static void finish(const float* x, std::uint8_t* c, BlockQ5_K& y) { finishQ5K(x, c, y); }
};

template <int G, int Nmax>
CWB_QUANT_AVX2 bool searchScaleMin(const float* x, float rmin, int steps, float* scales,
                                   float* mins, std::uint8_t* codes) {
    return finite(x, G * kQKK) &&
           searchQkx2Avx2<G, 32>(x, Nmax, rmin, steps, false, scales, mins, codes);
}

// Calls body(G, x, out) for runs of one or two super-blocks.
template <typename Body>
void pairs(std::int64_t blocks, Body body) {
    for (std::int64_t b = 0; b < blocks;) {
        const int g = blocks - b >= 2 ? 2 : 1;
        body(g, b);
        b += g;
    }
}

template <typename Block, int Nmax>
CWB_QUANT_AVX2 void encodeScaleMin(const float* x, std::byte* out, std::int64_t n,
                                   FromFloatFn ref) {
    using F = ScaleMinFormat<Block, Nmax>;
    auto* y = blocksOf<Block>(out);
    float scales[16], mins[16];
    std::uint8_t codes[2 * kQKK];
    pairs(n / kQKK, [&](int g, std::int64_t b) {
        const float* xb = x + b * kQKK;
        const bool ok = g == 2
                            ? searchScaleMin<2, Nmax>(xb, F::kRmin, F::kSteps, scales, mins, codes)
                            : searchScaleMin<1, Nmax>(xb, F::kRmin, F::kSteps, scales, mins, codes);
        for (int k = 0; k < g; ++k) {
            if (!ok) {
                ref(xb + k * kQKK, reinterpret_cast<std::byte*>(&y[b + k]), kQKK);
                continue;
            }
            F::scales(scales + 8 * k, mins + 8 * k, y[b + k]);
            F::finish(xb + k * kQKK, codes + k * kQKK, y[b + k]);
        }
    });
}

template <typename Block, int Nmax>
CWB_QUANT_AVX2 double errorOfScaleMin(const float* x, std::int64_t n) {
    using F = ScaleMinFormat<Block, Nmax>;
    SquaredError s;
    double fallback = 0.0;
    float scales[16], mins[16];
    pairs(n / kQKK, [&](int g, std::int64_t b) {
        const float* xb = x + b * kQKK;
        const bool ok =
            g == 2 ? searchScaleMin<2, Nmax>(xb, F::kRmin, F::kSteps, scales, mins, nullptr)
                   : searchScaleMin<1, Nmax>(xb, F::kRmin, F::kSteps, scales, mins, nullptr);
        for (int k = 0; k < g; ++k) {
            if (!ok) {
                fallback += referenceError(F::kType, xb + k * kQKK);
                continue;
            }
            Block y;
            F::scales(scales + 8 * k, mins + 8 * k, y);
            for (int j = 0; j < 8; ++j) {
                float scale, min;
                F::sub(y, j, scale, min);
                errorScaleMin(xb + k * kQKK + 32 * j, 32, scale, min, Nmax, s);
            }
        }
    });
    return total(s) + fallback;
}

// ---- Q2_K, Q3_K, Q6_K: one super-block of 16 sub-blocks per search

CWB_QUANT_AVX2 bool searchQ2K(const float* x, float* scales, float* mins, std::uint8_t* codes) {
    return finite(x, kQKK) && searchQkx2Avx2<2, 16>(x, 3, -0.5f, 15, true, scales, mins, codes);
}

}  // namespace

CWB_QUANT_AVX2 void fromFloatQ4_KAvx2(const float* in, std::byte* blocks, std::int64_t n) {
    encodeScaleMin<BlockQ4_K, 15>(in, blocks, n, fromFloatQ4_KRef);
}
CWB_QUANT_AVX2 void fromFloatQ5_KAvx2(const float* in, std::byte* blocks, std::int64_t n) {
    encodeScaleMin<BlockQ5_K, 31>(in, blocks, n, fromFloatQ5_KRef);
}
CWB_QUANT_AVX2 double squaredErrorQ4_KAvx2(const float* in, std::int64_t n) {
    return errorOfScaleMin<BlockQ4_K, 15>(in, n);
}
CWB_QUANT_AVX2 double squaredErrorQ5_KAvx2(const float* in, std::int64_t n) {
    return errorOfScaleMin<BlockQ5_K, 31>(in, n);
}

CWB_QUANT_AVX2 void fromFloatQ2_KAvx2(const float* in, std::byte* blocks, std::int64_t n) {
    auto* y = blocksOf<BlockQ2_K>(blocks);
    float scales[16], mins[16];
    std::uint8_t codes[kQKK];
    for (std::int64_t b = 0; b < n / kQKK; ++b, in += kQKK) {
        if (!searchQ2K(in, scales, mins, codes)) {
            fromFloatQ2_KRef(in, reinterpret_cast<std::byte*>(&y[b]), kQKK);
            continue;
        }
        scalesQ2K(scales, mins, y[b]);
        finishQ2K(in, codes, y[b]);
    }
}
CWB_QUANT_AVX2 double squaredErrorQ2_KAvx2(const float* in, std::int64_t n) {
    SquaredError s;
    double fallback = 0.0;
    float scales[16], mins[16];
    for (std::int64_t b = 0; b < n / kQKK; ++b, in += kQKK) {
        if (!searchQ2K(in, scales, mins, nullptr)) {
            fallback += referenceError(DType::Q2_K, in);
            continue;
        }
        BlockQ2_K y;
        scalesQ2K(scales, mins, y);
        for (int j = 0; j < 16; ++j) {
            float scale, min;
            subScalesQ2K(y, j, scale, min);
            errorScaleMin(in + 16 * j, 16, scale, min, 3, s);
        }
    }
    return total(s) + fallback;
}

CWB_QUANT_AVX2 void fromFloatQ3_KAvx2(const float* in, std::byte* blocks, std::int64_t n) {
    auto* y = blocksOf<BlockQ3_K>(blocks);
    float scales[16];
    std::int8_t codes[kQKK];
    for (std::int64_t b = 0; b < n / kQKK; ++b, in += kQKK) {
        if (!finite(in, kQKK)) {
            fromFloatQ3_KRef(in, reinterpret_cast<std::byte*>(&y[b]), kQKK);
            continue;
        }
        searchQ3Avx2(in, 4, scales, codes);
        scalesQ3K(scales, y[b]);
        finishQ3K(in, codes, y[b]);
    }
}
CWB_QUANT_AVX2 double squaredErrorQ3_KAvx2(const float* in, std::int64_t n) {
    SquaredError s;
    double fallback = 0.0;
    float scales[16];
    for (std::int64_t b = 0; b < n / kQKK; ++b, in += kQKK) {
        if (!finite(in, kQKK)) {
            fallback += referenceError(DType::Q3_K, in);
            continue;
        }
        searchQ3Avx2(in, 4, scales, nullptr);
        BlockQ3_K y;
        scalesQ3K(scales, y);
        for (int j = 0; j < 16; ++j) errorSigned(in + 16 * j, 16, subScaleQ3K(y, j), 4, s);
    }
    return total(s) + fallback;
}

CWB_QUANT_AVX2 void fromFloatQ6_KAvx2(const float* in, std::byte* blocks, std::int64_t n) {
    auto* y = blocksOf<BlockQ6_K>(blocks);
    float scales[16];
    std::int8_t codes[kQKK];
    for (std::int64_t b = 0; b < n / kQKK; ++b, in += kQKK) {
        if (!finite(in, kQKK)) {
            fromFloatQ6_KRef(in, reinterpret_cast<std::byte*>(&y[b]), kQKK);
            continue;
        }
        searchQxAvx2(in, 32, scales, codes);
        if (scalesQ6K(scales, y[b])) finishQ6K(in, codes, y[b]);
    }
}
CWB_QUANT_AVX2 double squaredErrorQ6_KAvx2(const float* in, std::int64_t n) {
    SquaredError s;
    double fallback = 0.0;
    float scales[16];
    for (std::int64_t b = 0; b < n / kQKK; ++b, in += kQKK) {
        if (!finite(in, kQKK)) {
            fallback += referenceError(DType::Q6_K, in);
            continue;
        }
        searchQxAvx2(in, 32, scales, nullptr);
        BlockQ6_K y;
        if (!scalesQ6K(scales, y)) {  // all zero
            errorSigned(in, kQKK, 0.f, 32, s);
            continue;
        }
        for (int j = 0; j < 16; ++j) errorSigned(in + 16 * j, 16, subScaleQ6K(y, j), 32, s);
    }
    return total(s) + fallback;
}

}  // namespace cwb::quant::detail
