// The alpha/rho error of a row (see step_error.h): a plain loop, and AVX2 on eight values at
// a time with the same float operations (a division, C's roundf rebuilt exactly, a product).
#include "core/quant/step_error.h"

#include <cmath>

#include "core/quant/avx2_encode.h"
#include "core/quant/block_formats.h"

namespace cwb::quant {
namespace {

float roundHalfAway(float x) {
    const float t = std::trunc(x);
    return std::fabs(x - t) >= 0.5f ? t + std::copysign(1.f, x) : t;
}

void addStepErrorRef(const float* in, std::int64_t n, const StepRule& r, StepErrorSums& s) {
    for (std::int64_t i = 0; i < n; ++i) {
        const float w = in[i];
        const bool keep = r.textbook ? w >= r.rho : std::fabs(w) >= r.rho;
        const float v = !keep ? 0.f : r.alpha == 0.f ? w : roundHalfAway(w / r.alpha) * r.alpha;
        const double d = double(v) - w;
        s.error += d * d;
        s.zeros += v == 0.f;
    }
}

CWB_QUANT_AVX2 void addStepErrorAvx2(const float* in, std::int64_t n, const StepRule& r,
                                     StepErrorSums& s) {
    using namespace detail::avx2;
    const __m256 alpha = _mm256_set1_ps(r.alpha), rho = _mm256_set1_ps(r.rho),
                 zero = _mm256_setzero_ps();
    const bool quantize = r.alpha != 0.f;
    SquaredError e;
    long long zeros = 0;
    std::int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const __m256 w = _mm256_loadu_ps(in + i);
        __m256 v = w;
        if (quantize) {
            // roundf(x): trunc(x) + trunc(2 (x - trunc(x))), exact (see legacy_encode_avx2).
            const __m256 x = _mm256_div_ps(w, alpha);
            const __m256 t = _mm256_round_ps(x, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
            const __m256 f = _mm256_sub_ps(x, t);
            const __m256 q = _mm256_add_ps(
                t, _mm256_round_ps(_mm256_add_ps(f, f), _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC));
            v = _mm256_mul_ps(q, alpha);
        }
        const __m256 keep = r.textbook ? _mm256_cmp_ps(w, rho, _CMP_GE_OQ)
                                       : _mm256_cmp_ps(absf(w), rho, _CMP_GE_OQ);
        v = _mm256_and_ps(v, keep);
        if ((i / 8) % 2)
            addError<1>(e, v, w);
        else
            addError<0>(e, v, w);
        zeros += __builtin_popcount(
            static_cast<unsigned>(_mm256_movemask_ps(_mm256_cmp_ps(v, zero, _CMP_EQ_OQ))));
    }
    s.error += total(e);
    s.zeros += zeros;
    addStepErrorRef(in + i, n - i, r, s);
}

}  // namespace

void addStepError(const float* in, std::int64_t n, const StepRule& rule, StepErrorSums& sums) {
    if (activeIsa() != Isa::Scalar)
        addStepErrorAvx2(in, n, rule, sums);
    else
        addStepErrorRef(in, n, rule, sums);
}

}  // namespace cwb::quant
