// The 32-value weight formats Q4_0, Q4_1, Q5_0, Q5_1 and Q8_0 encoded with AVX2 by the
// reference rules (legacy_blocks.cpp): the same scale, the same codes, so the same bytes;
// and the squared error they give, from the codes and scales in registers, without writing
// a block. Blocks go eight at a time: first each block's extremes, then the eight scales with
// vector divisions and fp16 conversions (the same IEEE operations as the scalar ones), then
// the codes (the first two steps: legacy_groups_avx2.h). A block holding a NaN or an
// infinity goes through the reference quantizer.
#include "core/quant/block_formats.h"
#include "core/quant/fp16.h"
#include "core/quant/kernels.h"
#include "core/quant/legacy_groups_avx2.h"

namespace cwb::quant::detail {
namespace {

using namespace legacy;

// One block's codes (unsigned, as stored) and the values they decode to.
struct Coded {
    __m256 q[4];
    __m256 back[4];
};

CWB_QUANT_AVX2 inline __m256 trunc(__m256 v) {
    return _mm256_round_ps(v, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
}

// C's roundf for |v| < 2^23: trunc(v) plus trunc(2 (v - trunc(v))), which is +-1 exactly
// where the dropped part is at least a half (v - trunc(v) is exact, so is the doubling).
CWB_QUANT_AVX2 inline __m256 roundAway(__m256 v) {
    const __m256 t = trunc(v);
    const __m256 f = _mm256_sub_ps(v, t);
    return _mm256_add_ps(t, trunc(_mm256_add_ps(f, f)));
}

// Block k of a group, by the reference's expressions.
template <Rule R>
CWB_QUANT_AVX2 void code(const __m256 (&v)[4], const Scales& s, int k, Coded& c) {
    const __m256 id = _mm256_broadcast_ss(&s.id[k]), dv = _mm256_broadcast_ss(&s.dv[k]);
    for (int j = 0; j < 4; ++j) {
        if constexpr (R == Rule::Q8_0) {
            c.q[j] = roundAway(_mm256_mul_ps(v[j], id));
            c.back[j] = _mm256_mul_ps(c.q[j], dv);
        } else if constexpr (R == Rule::Q4_0 || R == Rule::Q5_0) {
            // (int)(x / d + half + 0.5): the sum is at least 0, so truncation is the floor.
            constexpr float kHalf = R == Rule::Q4_0 ? 8.f : 16.f;
            const __m256 t =
                trunc(_mm256_add_ps(_mm256_mul_ps(v[j], id), _mm256_set1_ps(kHalf + 0.5f)));
            c.q[j] = _mm256_min_ps(t, _mm256_set1_ps(2 * kHalf - 1));
            c.back[j] = _mm256_mul_ps(_mm256_sub_ps(c.q[j], _mm256_set1_ps(kHalf)), dv);
        } else {
            const __m256 lo = _mm256_broadcast_ss(&s.lo[k]), mv = _mm256_broadcast_ss(&s.mv[k]);
            const __m256 t = trunc(
                _mm256_add_ps(_mm256_mul_ps(_mm256_sub_ps(v[j], lo), id), _mm256_set1_ps(0.5f)));
            // Q4_1 caps at 15; Q5_1's code cannot pass 31.
            c.q[j] = R == Rule::Q4_1 ? _mm256_min_ps(t, _mm256_set1_ps(15.f)) : t;
            c.back[j] = _mm256_add_ps(_mm256_mul_ps(c.q[j], dv), mv);
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
CWB_QUANT_AVX2 void store(const Coded& c, const Scales& s, int k, std::byte* out) {
    const __m256i bytes = codeBytes(c);
    if constexpr (R == Rule::Q8_0) {
        auto& b = *blocksOf<BlockQ8_0>(out);
        b.d = s.d[k];
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(b.qs), bytes);
    } else if constexpr (R == Rule::Q4_0) {
        auto& b = *blocksOf<BlockQ4_0>(out);
        b.d = s.d[k];
        storeNibbles(bytes, b.qs);
    } else if constexpr (R == Rule::Q4_1) {
        auto& b = *blocksOf<BlockQ4_1>(out);
        b.d = s.d[k];
        b.m = s.m[k];
        storeNibbles(bytes, b.qs);
    } else if constexpr (R == Rule::Q5_0) {
        auto& b = *blocksOf<BlockQ5_0>(out);
        b.d = s.d[k];
        storeFifthBits(bytes, b.qh);
        storeNibbles(bytes, b.qs);
    } else {
        auto& b = *blocksOf<BlockQ5_1>(out);
        b.d = s.d[k];
        b.m = s.m[k];
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

enum class Mode { Bytes, Error };

// Block k's squared error under rule R, its four vectors alternating the accumulator pairs.
template <Rule R>
CWB_QUANT_AVX2 inline void addBlockError(const __m256 (&v)[4], const Scales& s, int k,
                                         SquaredError& error) {
    Coded c;
    code<R>(v, s, k, c);
    for (int j = 0; j < 4; j += 2) {
        addError<0>(error, c.back[j], v[j]);
        addError<1>(error, c.back[j + 1], v[j + 1]);
    }
}

// Blocks in groups of eight; Bytes writes them to `out`, Error adds to `error` (and the
// reference's error of a non-finite block to `fallback`).
template <Rule R, Mode M>
CWB_QUANT_AVX2 void run(const float* x, std::int64_t n, DType type, std::byte* out,
                        SquaredError& error, double& fallback) {
    const std::int64_t blocks = n / kQK;
    for (std::int64_t g = 0; g < blocks; g += 8, x += 8 * kQK) {
        __m256 hiV[8], loV[8];
        bool finite[8];
        const int count = loadGroup(x, blocks - g, hiV, loV, finite);
        Scales s;
        groupScales<R>(x, hiV, loV, finite, count, s);
        for (int k = 0; k < count; ++k) {
            const float* xb = x + k * kQK;
            if (!finite[k]) {
                const auto& f = blockFormat(type);
                if constexpr (M == Mode::Bytes)
                    f.fromFloatRef(xb, out + (g + k) * blockBytes(R), kQK);
                else
                    fallback += f.squaredError[static_cast<int>(Isa::Scalar)](xb, kQK);
                continue;
            }
            __m256 v[4];
            for (int j = 0; j < 4; ++j) v[j] = _mm256_loadu_ps(xb + 8 * j);
            if constexpr (M == Mode::Bytes) {
                Coded c;
                code<R>(v, s, k, c);
                store<R>(c, s, k, out + (g + k) * blockBytes(R));
            } else {
                addBlockError<R>(v, s, k, error);
            }
        }
    }
}

template <Rule R>
CWB_QUANT_AVX2 void encode(const float* x, std::byte* out, std::int64_t n, DType type) {
    SquaredError unused;
    double none = 0.0;
    run<R, Mode::Bytes>(x, n, type, out, unused, none);
}

template <Rule R>
CWB_QUANT_AVX2 double squaredError(const float* x, std::int64_t n, DType type) {
    SquaredError s;
    double fallback = 0.0;
    run<R, Mode::Error>(x, n, type, nullptr, s, fallback);
    return total(s) + fallback;
}

CWB_QUANT_AVX2 inline void addBlockErrorOf(Rule r, const __m256 (&v)[4], const Scales& s, int k,
                                           SquaredError& error) {
    switch (r) {
        case Rule::Q4_0:
            return addBlockError<Rule::Q4_0>(v, s, k, error);
        case Rule::Q4_1:
            return addBlockError<Rule::Q4_1>(v, s, k, error);
        case Rule::Q5_0:
            return addBlockError<Rule::Q5_0>(v, s, k, error);
        case Rule::Q5_1:
            return addBlockError<Rule::Q5_1>(v, s, k, error);
        case Rule::Q8_0:
            return addBlockError<Rule::Q8_0>(v, s, k, error);
    }
}

}  // namespace

#define CWB_LEGACY_ERROR(T)                                         \
    double squaredError##T##Avx2(const float* in, std::int64_t n) { \
        return squaredError<Rule::T>(in, n, DType::T);              \
    }
#define CWB_LEGACY_ENCODER(T)                                                     \
    void fromFloat##T##Avx2(const float* in, std::byte* blocks, std::int64_t n) { \
        encode<Rule::T>(in, blocks, n, DType::T);                                 \
    }                                                                             \
    CWB_LEGACY_ERROR(T)
CWB_LEGACY_ENCODER(Q4_0)
CWB_LEGACY_ENCODER(Q4_1)
CWB_LEGACY_ENCODER(Q5_0)
CWB_LEGACY_ENCODER(Q5_1)
CWB_LEGACY_ERROR(Q8_0)  // its encoder is the activation quantizer (activations_avx2.cpp)
#undef CWB_LEGACY_ENCODER
#undef CWB_LEGACY_ERROR

// Several formats' errors in one pass over the groups: the loads and extremes are shared,
// each block is loaded once for every format, and each format keeps its own accumulators
// and fallback in squaredError's order, so its figure is squaredError's bit for bit.
CWB_QUANT_AVX2 void squaredErrorsLegacyAvx2(const float* x, std::int64_t n, const DType* types,
                                            int count, double* errors) {
    for (int first = 0; first < count; first += kMostFormats) {
        const FormatSet f = formatSet(types + first, count - first);
        SquaredError acc[kMostFormats];
        double fallback[kMostFormats] = {};
        const std::int64_t blocks = n / kQK;
        const float* xg = x;
        for (std::int64_t g = 0; g < blocks; g += 8, xg += 8 * kQK) {
            bool finite[8];
            Scales s[kMostFormats];
            const int inGroup = groupScalesFor(f, xg, blocks - g, finite, s);
            for (int k = 0; k < inGroup; ++k) {
                const float* xb = xg + k * kQK;
                if (!finite[k]) {
                    addReferenceErrors(f, xb, fallback);
                    continue;
                }
                __m256 v[4];
                for (int j = 0; j < 4; ++j) v[j] = _mm256_loadu_ps(xb + 8 * j);
                for (int r = 0; r < f.count; ++r) addBlockErrorOf(f.rules[r], v, s[r], k, acc[r]);
            }
        }
        for (int r = 0; r < f.count; ++r) errors[first + r] = total(acc[r]) + fallback[r];
    }
}

// The signal the errors are set against: each square in double, as the error's; and the
// extremes (min/max ignore NaN as the scalar std::min/std::max chain does).
CWB_QUANT_AVX2 double sumOfSquaresAvx2(const float* in, std::int64_t n, float& min, float& max) {
    SquaredError s;
    __m256 lo = _mm256_set1_ps(min), hi = _mm256_set1_ps(max);
    std::int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const __m256 v = _mm256_loadu_ps(in + i);
        if ((i / 8) % 2)
            addSquares<1>(s, v);
        else
            addSquares<0>(s, v);
        lo = _mm256_min_ps(v, lo);  // a NaN in v keeps lo
        hi = _mm256_max_ps(v, hi);
    }
    min = hmin(lo);
    max = hmax(hi);
    double rest = 0.0;
    for (; i < n; ++i) {
        rest += double(in[i]) * in[i];
        min = std::min(min, in[i]);
        max = std::max(max, in[i]);
    }
    return total(s) + rest;
}

namespace {
template <bool Bf16, bool Extremes>
CWB_QUANT_AVX2 std::int64_t halfRowVectors(const std::byte* row, float* out, std::int64_t n,
                                           SquaredError& s, float& min, float& max) {
    __m256 lo = _mm256_set1_ps(min), hi = _mm256_set1_ps(max);
    std::int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const __m128i h = _mm_loadu_si128(reinterpret_cast<const __m128i*>(row + 2 * i));
        const __m256 v = Bf16 ? _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16))
                              : _mm256_cvtph_ps(h);
        _mm256_storeu_ps(out + i, v);
        if ((i / 8) % 2)
            addSquares<1>(s, v);
        else
            addSquares<0>(s, v);
        if constexpr (Extremes) {
            lo = _mm256_min_ps(v, lo);
            hi = _mm256_max_ps(v, hi);
        }
    }
    if constexpr (Extremes) {
        min = hmin(lo);
        max = hmax(hi);
    }
    return i;
}
}  // namespace

CWB_QUANT_AVX2 double halfRowSquaresAvx2(bool bf16, const std::byte* row, float* out,
                                         std::int64_t n, float& min, float& max, bool extremes) {
    SquaredError s;
    const std::int64_t i = bf16 ? extremes ? halfRowVectors<true, true>(row, out, n, s, min, max)
                                           : halfRowVectors<true, false>(row, out, n, s, min, max)
                           : extremes ? halfRowVectors<false, true>(row, out, n, s, min, max)
                                      : halfRowVectors<false, false>(row, out, n, s, min, max);
    double rest = 0.0;
    for (std::int64_t j = i; j < n; ++j) {
        std::uint16_t h;
        std::memcpy(&h, row + 2 * j, 2);
        const float v = bf16 ? bf16ToFloat(h) : halfToFloat(h);
        out[j] = v;
        rest += double(v) * v;
        min = std::min(min, v);
        max = std::max(max, v);
    }
    return total(s) + rest;
}

}  // namespace cwb::quant::detail
