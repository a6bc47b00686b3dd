// AVX2 building blocks of the vector encoders (internal to core/quant): the reference
// quantizers' rounding rules on eight floats at a time, the transposition that puts eight
// sub-blocks in eight lanes, and the squared-error sum in double that the statistics path
// keeps. Every helper rounds exactly as the scalar expression it stands for.
#pragma once

#include <cstdint>

#include "core/quant/simd_target.h"

namespace cwb::quant::detail::avx2 {

CWB_QUANT_AVX2 inline __m256 absf(__m256 v) { return _mm256_andnot_ps(_mm256_set1_ps(-0.0f), v); }

// ggml's nearest_int on eight floats, bit for bit for every input (the same float addition
// and mantissa bits as kernels.h's nearestInt).
CWB_QUANT_AVX2 inline __m256i nearestIntExact(__m256 v) {
    const __m256i bits = _mm256_castps_si256(_mm256_add_ps(v, _mm256_set1_ps(12582912.f)));
    return _mm256_sub_epi32(_mm256_and_si256(bits, _mm256_set1_epi32(0x007fffff)),
                            _mm256_set1_epi32(0x00400000));
}

// nearestInt clamped to [lo, hi], as a float; exact for every input.
CWB_QUANT_AVX2 inline __m256 nearestClamped(__m256 v, int lo, int hi) {
    const __m256i q = _mm256_min_epi32(_mm256_max_epi32(nearestIntExact(v), _mm256_set1_epi32(lo)),
                                       _mm256_set1_epi32(hi));
    return _mm256_cvtepi32_ps(q);
}

// The same where |v| < 2^22 is known: round half to even is then what nearest_int gives, and
// clamping to integer bounds commutes with it.
CWB_QUANT_AVX2 inline __m256 nearestClampedSmall(__m256 v, __m256 lo, __m256 hi) {
    const __m256 r = _mm256_round_ps(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    return _mm256_min_ps(_mm256_max_ps(r, lo), hi);
}

// C's roundf (halves away from zero) for |v| < 2^23: v - trunc(v) is exact, so the
// comparison with 0.5 is too.
CWB_QUANT_AVX2 inline __m256 roundHalfAway(__m256 v) {
    const __m256 t = _mm256_round_ps(v, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
    const __m256 up = _mm256_cmp_ps(absf(_mm256_sub_ps(v, t)), _mm256_set1_ps(0.5f), _CMP_GE_OQ);
    const __m256 step = _mm256_or_ps(_mm256_set1_ps(1.0f), _mm256_and_ps(v, _mm256_set1_ps(-0.0f)));
    return _mm256_add_ps(t, _mm256_and_ps(up, step));
}

// Four vectors of 8 int32 (values in int8 range) to 32 int8 in order.
CWB_QUANT_AVX2 inline __m256i packBytes(__m256i a, __m256i b, __m256i c, __m256i d) {
    const __m256i ab = _mm256_packs_epi32(a, b);  // per 128-bit lane: a0-3 b0-3 | a4-7 b4-7
    const __m256i cd = _mm256_packs_epi32(c, d);
    const __m256i bytes = _mm256_packs_epi16(ab, cd);  // a0-3 b0-3 c0-3 d0-3 | a4-7 ...
    return _mm256_permutevar8x32_epi32(bytes, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
}

// All bits zero when every value of the vectors was finite (x - x is 0 or NaN).
CWB_QUANT_AVX2 inline __m256 nonFiniteBits(__m256 acc, __m256 v) {
    return _mm256_or_ps(acc, _mm256_sub_ps(v, v));
}
CWB_QUANT_AVX2 inline bool allFinite(__m256 acc) {
    const __m256i a = _mm256_castps_si256(acc);
    return _mm256_testz_si256(a, a);
}

CWB_QUANT_AVX2 inline float hmax(__m256 v) {
    __m128 m = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    m = _mm_max_ps(m, _mm_movehl_ps(m, m));
    m = _mm_max_ss(m, _mm_movehdup_ps(m));
    return _mm_cvtss_f32(m);
}
CWB_QUANT_AVX2 inline float hmin(__m256 v) {
    __m128 m = _mm_min_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    m = _mm_min_ps(m, _mm_movehl_ps(m, m));
    m = _mm_min_ss(m, _mm_movehdup_ps(m));
    return _mm_cvtss_f32(m);
}

// float -> fp16 bits rounded to nearest even (fp16.h's floatToHalf for finite input) and back.
CWB_QUANT_AVX2 inline std::uint16_t toHalf(float f) {
    return static_cast<std::uint16_t>(_cvtss_sh(f, _MM_FROUND_TO_NEAREST_INT));
}
CWB_QUANT_AVX2 inline float fromHalf(std::uint16_t h) { return _cvtsh_ss(h); }

// Rows r0..r0+7 of an 8 x 8 tile (each `stride` floats apart) into columns: out[i] holds
// value i of every row, row k in lane k.
CWB_QUANT_AVX2 inline void transpose8(const float* in, std::int64_t stride, __m256* out) {
    __m256 r[8];
    for (int k = 0; k < 8; ++k) r[k] = _mm256_loadu_ps(in + k * stride);
    const __m256 t0 = _mm256_unpacklo_ps(r[0], r[1]), t1 = _mm256_unpackhi_ps(r[0], r[1]);
    const __m256 t2 = _mm256_unpacklo_ps(r[2], r[3]), t3 = _mm256_unpackhi_ps(r[2], r[3]);
    const __m256 t4 = _mm256_unpacklo_ps(r[4], r[5]), t5 = _mm256_unpackhi_ps(r[4], r[5]);
    const __m256 t6 = _mm256_unpacklo_ps(r[6], r[7]), t7 = _mm256_unpackhi_ps(r[6], r[7]);
    const __m256 u0 = _mm256_shuffle_ps(t0, t2, 0x44), u1 = _mm256_shuffle_ps(t0, t2, 0xee);
    const __m256 u2 = _mm256_shuffle_ps(t1, t3, 0x44), u3 = _mm256_shuffle_ps(t1, t3, 0xee);
    const __m256 u4 = _mm256_shuffle_ps(t4, t6, 0x44), u5 = _mm256_shuffle_ps(t4, t6, 0xee);
    const __m256 u6 = _mm256_shuffle_ps(t5, t7, 0x44), u7 = _mm256_shuffle_ps(t5, t7, 0xee);
    out[0] = _mm256_permute2f128_ps(u0, u4, 0x20);
    out[1] = _mm256_permute2f128_ps(u1, u5, 0x20);
    out[2] = _mm256_permute2f128_ps(u2, u6, 0x20);
    out[3] = _mm256_permute2f128_ps(u3, u7, 0x20);
    out[4] = _mm256_permute2f128_ps(u0, u4, 0x31);
    out[5] = _mm256_permute2f128_ps(u1, u5, 0x31);
    out[6] = _mm256_permute2f128_ps(u2, u6, 0x31);
    out[7] = _mm256_permute2f128_ps(u3, u7, 0x31);
}

// Eight sub-blocks of n values (n a multiple of 8), sub-block k starting at x + k * n, as n
// vectors: out[i] lane k = x[k * n + i].
CWB_QUANT_AVX2 inline void lanesOf(const float* x, int n, __m256* out) {
    for (int i = 0; i < n; i += 8) transpose8(x + i, n, out + i);
}

// Sum of (back - x)^2 with each difference in double, as the reference path measures the
// error (double(decoded) - original). The square is fused into the addition: where it is
// exact in double (always for squares of floats, nearly always for these differences) that
// is the reference's sum; the order of the additions differs anyway.
// Four accumulators, two per vector of eight (`P` picks the pair): one fused multiply-add's
// latency per eight values would otherwise bound the kernels, so callers alternate P.
struct alignas(32) SquaredError {  // alignas: a build without -mavx caps __m256d at 16
    // A constructor of its own: default member initializers would lose the target attribute.
    CWB_QUANT_AVX2 SquaredError()
        : acc{_mm256_setzero_pd(), _mm256_setzero_pd(), _mm256_setzero_pd(), _mm256_setzero_pd()} {}
    __m256d acc[4];
};
template <int P = 0>
CWB_QUANT_AVX2 inline void addError(SquaredError& s, __m256 back, __m256 x) {
    const __m256d d0 = _mm256_sub_pd(_mm256_cvtps_pd(_mm256_castps256_ps128(back)),
                                     _mm256_cvtps_pd(_mm256_castps256_ps128(x)));
    const __m256d d1 = _mm256_sub_pd(_mm256_cvtps_pd(_mm256_extractf128_ps(back, 1)),
                                     _mm256_cvtps_pd(_mm256_extractf128_ps(x, 1)));
    s.acc[2 * P] = _mm256_fmadd_pd(d0, d0, s.acc[2 * P]);
    s.acc[2 * P + 1] = _mm256_fmadd_pd(d1, d1, s.acc[2 * P + 1]);
}
// Sum of x^2 in double.
template <int P = 0>
CWB_QUANT_AVX2 inline void addSquares(SquaredError& s, __m256 x) {
    const __m256d x0 = _mm256_cvtps_pd(_mm256_castps256_ps128(x));
    const __m256d x1 = _mm256_cvtps_pd(_mm256_extractf128_ps(x, 1));
    s.acc[2 * P] = _mm256_fmadd_pd(x0, x0, s.acc[2 * P]);
    s.acc[2 * P + 1] = _mm256_fmadd_pd(x1, x1, s.acc[2 * P + 1]);
}
CWB_QUANT_AVX2 inline double total(const SquaredError& s) {
    const __m256d v =
        _mm256_add_pd(_mm256_add_pd(s.acc[0], s.acc[1]), _mm256_add_pd(s.acc[2], s.acc[3]));
    __m128d t = _mm_add_pd(_mm256_castpd256_pd128(v), _mm256_extractf128_pd(v, 1));
    t = _mm_add_sd(t, _mm_unpackhi_pd(t, t));
    return _mm_cvtsd_f64(t);
}

}  // namespace cwb::quant::detail::avx2
