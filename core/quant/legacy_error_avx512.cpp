// The squared error of the 32-value formats (Q4_0, Q4_1, Q5_0, Q5_1, Q8_0) with AVX-512, what
// the whole-model table spends its time on: the scales as the AVX2 encoder finds them
// (legacy_groups_avx2.h), then each block's 32 values coded and decoded in two vectors of 16
// by the AVX2 kernel's float expressions, and the differences summed in double into the same
// accumulator lanes in the same order. So every figure equals squaredError*Avx2's bit for
// bit, in half the instructions.
#include "core/quant/block_formats.h"
#include "core/quant/kernels.h"
#include "core/quant/legacy_groups_avx2.h"

namespace cwb::quant::detail {
namespace {

using namespace legacy;

CWB_QUANT_AVX512 inline __m512 trunc16(__m512 v) {
    return _mm512_roundscale_ps(v, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
}

// Sixteen of block k's values as their codes decode them under rule R (code() in
// legacy_encode_avx2.cpp, on sixteen lanes).
template <Rule R>
CWB_QUANT_AVX512 inline __m512 decoded(__m512 v, const Scales& s, int k) {
    const __m512 id = _mm512_set1_ps(s.id[k]), dv = _mm512_set1_ps(s.dv[k]);
    if constexpr (R == Rule::Q8_0) {
        const __m512 scaled = _mm512_mul_ps(v, id);  // roundAway: trunc plus trunc(2 x rest)
        const __m512 t = trunc16(scaled);
        const __m512 f = _mm512_sub_ps(scaled, t);
        return _mm512_mul_ps(_mm512_add_ps(t, trunc16(_mm512_add_ps(f, f))), dv);
    } else if constexpr (R == Rule::Q4_0 || R == Rule::Q5_0) {
        constexpr float kHalf = R == Rule::Q4_0 ? 8.f : 16.f;
        const __m512 t = trunc16(_mm512_add_ps(_mm512_mul_ps(v, id), _mm512_set1_ps(kHalf + 0.5f)));
        const __m512 q = _mm512_min_ps(t, _mm512_set1_ps(2 * kHalf - 1));
        return _mm512_mul_ps(_mm512_sub_ps(q, _mm512_set1_ps(kHalf)), dv);
    } else {
        const __m512 lo = _mm512_set1_ps(s.lo[k]), mv = _mm512_set1_ps(s.mv[k]);
        const __m512 t =
            trunc16(_mm512_add_ps(_mm512_mul_ps(_mm512_sub_ps(v, lo), id), _mm512_set1_ps(0.5f)));
        const __m512 q = R == Rule::Q4_1 ? _mm512_min_ps(t, _mm512_set1_ps(15.f)) : t;
        return _mm512_add_ps(_mm512_mul_ps(q, dv), mv);
    }
}

// The AVX2 kernel's four accumulators of four doubles as two of eight: wide[0] is acc[0] |
// acc[1] (values 0-7 and 16-23 of each block), wide[1] is acc[2] | acc[3] (8-15, 24-31).
struct alignas(64) WideError {
    CWB_QUANT_AVX512 WideError() : wide{_mm512_setzero_pd(), _mm512_setzero_pd()} {}
    __m512d wide[2];
};

CWB_QUANT_AVX512 inline __m512d widened(__m256 v) { return _mm512_cvtps_pd(v); }

CWB_QUANT_AVX512 inline void addHalfError(__m512d& acc, __m256 back, __m256 x) {
    const __m512d d = _mm512_sub_pd(widened(back), widened(x));
    acc = _mm512_fmadd_pd(d, d, acc);
}

CWB_QUANT_AVX512 inline __m256 lowHalf(__m512 v) { return _mm512_castps512_ps256(v); }
CWB_QUANT_AVX512 inline __m256 highHalf(__m512 v) {
    return _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1));
}

template <Rule R>
CWB_QUANT_AVX512 inline void addBlockError(const float* xb, const Scales& s, int k,
                                           WideError& error) {
    for (int half = 0; half < 2; ++half) {
        const __m512 x = _mm512_loadu_ps(xb + 16 * half);
        const __m512 back = decoded<R>(x, s, k);
        addHalfError(error.wide[0], lowHalf(back), lowHalf(x));
        addHalfError(error.wide[1], highHalf(back), highHalf(x));
    }
}

CWB_QUANT_AVX512 inline void addBlockErrorOf(Rule r, const float* xb, const Scales& s, int k,
                                             WideError& error) {
    switch (r) {
        case Rule::Q4_0:
            return addBlockError<Rule::Q4_0>(xb, s, k, error);
        case Rule::Q4_1:
            return addBlockError<Rule::Q4_1>(xb, s, k, error);
        case Rule::Q5_0:
            return addBlockError<Rule::Q5_0>(xb, s, k, error);
        case Rule::Q5_1:
            return addBlockError<Rule::Q5_1>(xb, s, k, error);
        case Rule::Q8_0:
            return addBlockError<Rule::Q8_0>(xb, s, k, error);
    }
}

// total() of the AVX2 accumulators these stand for: the same additions in the same order.
CWB_QUANT_AVX512 double wideTotal(const WideError& e) {
    SquaredError s;
    for (int w = 0; w < 2; ++w) {
        s.acc[2 * w] = _mm512_castpd512_pd256(e.wide[w]);
        s.acc[2 * w + 1] = _mm512_extractf64x4_pd(e.wide[w], 1);
    }
    return total(s);
}

}  // namespace

// squaredErrorsLegacyAvx2's pass (legacy_encode_avx2.cpp) with the sixteen-lane blocks.
CWB_QUANT_AVX512 void squaredErrorsLegacyAvx512(const float* x, std::int64_t n, const DType* types,
                                                int count, double* errors) {
    for (int first = 0; first < count; first += kMostFormats) {
        const FormatSet f = formatSet(types + first, count - first);
        WideError acc[kMostFormats];
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
                for (int r = 0; r < f.count; ++r) addBlockErrorOf(f.rules[r], xb, s[r], k, acc[r]);
            }
        }
        for (int r = 0; r < f.count; ++r) errors[first + r] = wideTotal(acc[r]) + fallback[r];
    }
}

#define CWB_LEGACY_ERROR_AVX512(T)                                    \
    double squaredError##T##Avx512(const float* in, std::int64_t n) { \
        const DType type = DType::T;                                  \
        double error = 0.0;                                           \
        squaredErrorsLegacyAvx512(in, n, &type, 1, &error);           \
        return error;                                                 \
    }
CWB_LEGACY_ERROR_AVX512(Q4_0)
CWB_LEGACY_ERROR_AVX512(Q4_1)
CWB_LEGACY_ERROR_AVX512(Q5_0)
CWB_LEGACY_ERROR_AVX512(Q5_1)
CWB_LEGACY_ERROR_AVX512(Q8_0)
#undef CWB_LEGACY_ERROR_AVX512

}  // namespace cwb::quant::detail
