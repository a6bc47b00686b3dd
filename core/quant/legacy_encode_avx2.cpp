// The 32-value weight formats Q4_0, Q4_1, Q5_0, Q5_1 and Q8_0 encoded with AVX2 by the
// reference rules (legacy_blocks.cpp): the same scale, the same codes, so the same bytes;
// and the squared error they give, from the codes and scales in registers, without writing
// a block. A block holding a NaN or an infinity goes through the reference quantizer.
#include <cfloat>

#include "core/quant/avx2_encode.h"
#include "core/quant/block_formats.h"
#include "core/quant/block_layouts.h"
#include "core/quant/kernels.h"

namespace cwb::quant::detail {
namespace {

using namespace avx2;

enum class Rule { Q4_0, Q4_1, Q5_0, Q5_1, Q8_0 };

// One block's codes (unsigned, as stored) and fp16 fields, with the decoded values.
struct Coded {
    __m256 q[4];
    std::uint16_t d = 0, m = 0;
    __m256 back[4];
};

// The value of largest magnitude, signed, the first one on ties (kernels.h's signedAbsMax).
CWB_QUANT_AVX2 float signedMax(const float* x, const __m256 (&v)[4]) {
    __m256 a[4];
    for (int k = 0; k < 4; ++k) a[k] = absf(v[k]);
    const float amax = hmax(_mm256_max_ps(_mm256_max_ps(a[0], a[1]), _mm256_max_ps(a[2], a[3])));
    if (amax == 0.f) return 0.f;  // the reference never takes a zero: +0
    const __m256 m = _mm256_set1_ps(amax);
    std::uint32_t hits = 0;
    for (int k = 0; k < 4; ++k)
        hits |= static_cast<std::uint32_t>(_mm256_movemask_ps(_mm256_cmp_ps(a[k], m, _CMP_EQ_OQ)))
                << (8 * k);
    return x[__builtin_ctz(hits)];
}

// The block's minimum and maximum as the reference's sequential scan gives them; a zero
// extreme is looked up in order, since -0 and +0 tie and the first one wins there.
CWB_QUANT_AVX2 void minMax(const float* x, const __m256 (&v)[4], float& lo, float& hi) {
    lo = hmin(_mm256_min_ps(_mm256_min_ps(v[0], v[1]), _mm256_min_ps(v[2], v[3])));
    hi = hmax(_mm256_max_ps(_mm256_max_ps(v[0], v[1]), _mm256_max_ps(v[2], v[3])));
    if (lo == 0.f || hi == 0.f) {
        lo = FLT_MAX, hi = -FLT_MAX;
        for (int j = 0; j < kQK; ++j) {
            if (x[j] < lo) lo = x[j];
            if (x[j] > hi) hi = x[j];
        }
    }
}

template <Rule R>
CWB_QUANT_AVX2 void code(const float* x, const __m256 (&v)[4], Coded& c) {
    if constexpr (R == Rule::Q8_0) {
        const __m256 a = _mm256_max_ps(_mm256_max_ps(absf(v[0]), absf(v[1])),
                                       _mm256_max_ps(absf(v[2]), absf(v[3])));
        const float d = hmax(a) / 127;
        const __m256 id = _mm256_set1_ps(d != 0.f ? 1.0f / d : 0.0f);
        c.d = toHalf(d);
        const __m256 dv = _mm256_set1_ps(fromHalf(c.d));
        for (int k = 0; k < 4; ++k) {
            c.q[k] = roundHalfAway(_mm256_mul_ps(v[k], id));
            c.back[k] = _mm256_mul_ps(c.q[k], dv);
        }
    } else if constexpr (R == Rule::Q4_0 || R == Rule::Q5_0) {
        constexpr int kHalf = R == Rule::Q4_0 ? 8 : 16;
        const float d = signedMax(x, v) / -kHalf;
        const __m256 id = _mm256_set1_ps(d != 0.f ? 1.0f / d : 0.0f);
        c.d = toHalf(d);
        const __m256 dv = _mm256_set1_ps(fromHalf(c.d));
        const __m256 offset = _mm256_set1_ps(kHalf + 0.5f), top = _mm256_set1_ps(2 * kHalf - 1);
        const __m256 half = _mm256_set1_ps(kHalf);
        for (int k = 0; k < 4; ++k) {
            // (int)(x / d + half + 0.5): the sum is at least 0, so truncation is the floor.
            const __m256 t = _mm256_round_ps(_mm256_add_ps(_mm256_mul_ps(v[k], id), offset),
                                             _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
            c.q[k] = _mm256_min_ps(t, top);
            c.back[k] = _mm256_mul_ps(_mm256_sub_ps(c.q[k], half), dv);
        }
    } else {
        constexpr int kTop = R == Rule::Q4_1 ? 15 : 31;
        float lo, hi;
        minMax(x, v, lo, hi);
        const float d = (hi - lo) / kTop;
        const __m256 id = _mm256_set1_ps(d != 0.f ? 1.0f / d : 0.0f);
        c.d = toHalf(d);
        c.m = toHalf(lo);
        const __m256 dv = _mm256_set1_ps(fromHalf(c.d)), mv = _mm256_set1_ps(fromHalf(c.m));
        const __m256 vmin = _mm256_set1_ps(lo), half = _mm256_set1_ps(0.5f);
        for (int k = 0; k < 4; ++k) {
            const __m256 t =
                _mm256_round_ps(_mm256_add_ps(_mm256_mul_ps(_mm256_sub_ps(v[k], vmin), id), half),
                                _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
            // Q4_1 caps at 15; Q5_1's code cannot pass 31.
            c.q[k] = kTop == 15 ? _mm256_min_ps(t, _mm256_set1_ps(15.f)) : t;
            c.back[k] = _mm256_add_ps(_mm256_mul_ps(c.q[k], dv), mv);
        }
    }
}

// The 32 codes as bytes in order.
CWB_QUANT_AVX2 __m256i codeBytes(const Coded& c) {
    return packBytes(_mm256_cvtps_epi32(c.q[0]), _mm256_cvtps_epi32(c.q[1]),
                     _mm256_cvtps_epi32(c.q[2]), _mm256_cvtps_epi32(c.q[3]));
}

// Element j in the low nibble of byte j, element j + 16 in its high nibble.
CWB_QUANT_AVX2 void storeNibbles(__m256i bytes, std::uint8_t* qs) {
    const __m128i lo = _mm256_castsi256_si128(bytes), hi = _mm256_extracti128_si256(bytes, 1);
    const __m128i low4 = _mm_set1_epi8(0x0f);
    _mm_storeu_si128(
        reinterpret_cast<__m128i*>(qs),
        _mm_or_si128(_mm_and_si128(lo, low4), _mm_slli_epi16(_mm_and_si128(hi, low4), 4)));
}

CWB_QUANT_AVX2 void storeFifthBits(__m256i bytes, std::uint8_t* qh) {
    const auto bits = static_cast<std::uint32_t>(_mm256_movemask_epi8(_mm256_slli_epi16(bytes, 3)));
    std::memcpy(qh, &bits, 4);
}

template <Rule R>
CWB_QUANT_AVX2 void store(const Coded& c, std::byte* out) {
    const __m256i bytes = codeBytes(c);
    if constexpr (R == Rule::Q8_0) {
        auto& b = *blocksOf<BlockQ8_0>(out);
        b.d = c.d;
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(b.qs), bytes);
    } else if constexpr (R == Rule::Q4_0) {
        auto& b = *blocksOf<BlockQ4_0>(out);
        b.d = c.d;
        storeNibbles(bytes, b.qs);
    } else if constexpr (R == Rule::Q4_1) {
        auto& b = *blocksOf<BlockQ4_1>(out);
        b.d = c.d;
        b.m = c.m;
        storeNibbles(bytes, b.qs);
    } else if constexpr (R == Rule::Q5_0) {
        auto& b = *blocksOf<BlockQ5_0>(out);
        b.d = c.d;
        storeFifthBits(bytes, b.qh);
        storeNibbles(bytes, b.qs);
    } else {
        auto& b = *blocksOf<BlockQ5_1>(out);
        b.d = c.d;
        b.m = c.m;
        storeFifthBits(bytes, b.qh);
        storeNibbles(bytes, b.qs);
    }
}

constexpr int blockBytes(Rule r) {
    return r == Rule::Q4_0   ? 18
           : r == Rule::Q4_1 ? 20
           : r == Rule::Q5_0 ? 22
           : r == Rule::Q5_1 ? 24
                             : 34;
}

template <Rule R>
CWB_QUANT_AVX2 void encode(const float* x, std::byte* out, std::int64_t n, FromFloatFn ref) {
    for (std::int64_t i = 0; i < n / kQK; ++i, x += kQK, out += blockBytes(R)) {
        __m256 v[4], bad = _mm256_setzero_ps();
        for (int k = 0; k < 4; ++k) bad = nonFiniteBits(bad, v[k] = _mm256_loadu_ps(x + 8 * k));
        if (!allFinite(bad)) {
            ref(x, out, kQK);
            continue;
        }
        Coded c;
        code<R>(x, v, c);
        store<R>(c, out);
    }
}

template <Rule R>
CWB_QUANT_AVX2 double squaredError(const float* x, std::int64_t n, DType type) {
    SquaredError s;
    double fallback = 0.0;
    for (std::int64_t i = 0; i < n / kQK; ++i, x += kQK) {
        __m256 v[4], bad = _mm256_setzero_ps();
        for (int k = 0; k < 4; ++k) bad = nonFiniteBits(bad, v[k] = _mm256_loadu_ps(x + 8 * k));
        if (!allFinite(bad)) {
            fallback += blockFormat(type).squaredError[static_cast<int>(Isa::Scalar)](x, kQK);
            continue;
        }
        Coded c;
        code<R>(x, v, c);
        for (int k = 0; k < 4; ++k) addError(s, c.back[k], v[k]);
    }
    return total(s) + fallback;
}

}  // namespace

#define CWB_LEGACY_ERROR(T)                                         \
    double squaredError##T##Avx2(const float* in, std::int64_t n) { \
        return squaredError<Rule::T>(in, n, DType::T);              \
    }
#define CWB_LEGACY_ENCODER(T)                                                     \
    void fromFloat##T##Avx2(const float* in, std::byte* blocks, std::int64_t n) { \
        encode<Rule::T>(in, blocks, n, fromFloat##T##Ref);                        \
    }                                                                             \
    CWB_LEGACY_ERROR(T)
CWB_LEGACY_ENCODER(Q4_0)
CWB_LEGACY_ENCODER(Q4_1)
CWB_LEGACY_ENCODER(Q5_0)
CWB_LEGACY_ENCODER(Q5_1)
CWB_LEGACY_ERROR(Q8_0)  // its encoder is the activation quantizer (activations_avx2.cpp)
#undef CWB_LEGACY_ENCODER
#undef CWB_LEGACY_ERROR

// The signal the errors are set against: each square in double, as the error's.
CWB_QUANT_AVX2 double sumOfSquaresAvx2(const float* in, std::int64_t n) {
    SquaredError s;
    const __m256 zero = _mm256_setzero_ps();
    std::int64_t i = 0;
    for (; i + 8 <= n; i += 8) addError(s, zero, _mm256_loadu_ps(in + i));
    double rest = 0.0;
    for (; i < n; ++i) rest += double(in[i]) * in[i];
    return total(s) + rest;
}

}  // namespace cwb::quant::detail
