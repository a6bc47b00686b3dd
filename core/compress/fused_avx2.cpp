// The fused pass's kernels for AVX2 (with FMA): fused_body.h over 8 float lanes, masks as
// all-ones lanes, the 8 double lanes of the sums in two registers.
#include <cstdint>

#include "core/quant/simd_target.h"
#include "core/util/vector_ops.h"

namespace cwb::fused {
namespace {

struct Avx2Ops {
    CWB_VECTOR_OPS(CWB_QUANT_AVX2, 256, _mm256, si256, __m256, _mm256_cmp_ps)

    CWB_QUANT_AVX2 static F abs(F x) { return _mm256_andnot_ps(_mm256_set1_ps(-0.f), x); }
    CWB_QUANT_AVX2 static F trunc(F x) {
        return _mm256_round_ps(x, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
    }
    CWB_QUANT_AVX2 static F signedOne(F x) {
        return _mm256_or_ps(_mm256_and_ps(x, _mm256_set1_ps(-0.f)), _mm256_set1_ps(1.f));
    }
    CWB_QUANT_AVX2 static F select(M m, F yes, F no) { return _mm256_blendv_ps(no, yes, m); }
    CWB_QUANT_AVX2 static M keepBytes(const std::uint8_t* p) {
        const I bytes = _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p)));
        return _mm256_castsi256_ps(_mm256_cmpgt_epi32(bytes, _mm256_setzero_si256()));
    }

    CWB_QUANT_AVX2 static I selectI(M m, I yes, I no) {
        return _mm256_castps_si256(
            _mm256_blendv_ps(_mm256_castsi256_ps(no), _mm256_castsi256_ps(yes), m));
    }
    // Lanes are 0..65535, which the unsigned saturation keeps as they are.
    CWB_QUANT_AVX2 static void storeU16(std::uint16_t* p, I v) {
        _mm_storeu_si128(
            reinterpret_cast<__m128i*>(p),
            _mm_packus_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1)));
    }

    struct D8 {
        __m256d lo, hi;  // lanes 0..3, 4..7
    };
    CWB_QUANT_AVX2 static D8 widen8(const float* p) {
        return {_mm256_cvtps_pd(_mm_loadu_ps(p)), _mm256_cvtps_pd(_mm_loadu_ps(p + 4))};
    }
    CWB_QUANT_AVX2 static D8 loadD(const double* p) {
        return {_mm256_loadu_pd(p), _mm256_loadu_pd(p + 4)};
    }
    CWB_QUANT_AVX2 static void storeD(double* p, D8 v) {
        _mm256_storeu_pd(p, v.lo);
        _mm256_storeu_pd(p + 4, v.hi);
    }
    CWB_QUANT_AVX2 static D8 set1D(double x) { return {_mm256_set1_pd(x), _mm256_set1_pd(x)}; }
    CWB_QUANT_AVX2 static D8 subD(D8 a, D8 b) {
        return {_mm256_sub_pd(a.lo, b.lo), _mm256_sub_pd(a.hi, b.hi)};
    }
    CWB_QUANT_AVX2 static D8 fmaD(D8 a, D8 b, D8 c) {
        return {_mm256_fmadd_pd(a.lo, b.lo, c.lo), _mm256_fmadd_pd(a.hi, b.hi, c.hi)};
    }
    CWB_QUANT_AVX2 static D8 absD(D8 x) {
        const __m256d sign = _mm256_set1_pd(-0.0);
        return {_mm256_andnot_pd(sign, x.lo), _mm256_andnot_pd(sign, x.hi)};
    }
    CWB_QUANT_AVX2 static D8 maxD(D8 a, D8 b) {
        return {_mm256_max_pd(a.lo, b.lo), _mm256_max_pd(a.hi, b.hi)};
    }
    CWB_QUANT_AVX2 static double reduceMaxD(D8 v) {
        const __m256d m = _mm256_max_pd(v.lo, v.hi);
        const __m128d h = _mm_max_pd(_mm256_castpd256_pd128(m), _mm256_extractf128_pd(m, 1));
        return _mm_cvtsd_f64(_mm_max_sd(h, _mm_unpackhi_pd(h, h)));
    }
    // Zeros counted per lane: a compare gives -1 where equal.
    using Zeros = __m256i;
    CWB_QUANT_AVX2 static Zeros noZeros() { return _mm256_setzero_si256(); }
    CWB_QUANT_AVX2 static Zeros addZeros8(Zeros n, const float* p) {
        const F eq = _mm256_cmp_ps(_mm256_loadu_ps(p), _mm256_setzero_ps(), _CMP_EQ_OQ);
        return _mm256_sub_epi32(n, _mm256_castps_si256(eq));
    }
    CWB_QUANT_AVX2 static long long total(Zeros n) {
        const __m128i h = _mm_add_epi32(_mm256_castsi256_si128(n), _mm256_extracti128_si256(n, 1));
        const __m128i q = _mm_add_epi32(h, _mm_unpackhi_epi64(h, h));
        return _mm_cvtsi128_si32(_mm_add_epi32(q, _mm_srli_epi64(q, 32)));
    }
};

}  // namespace
}  // namespace cwb::fused

#define CWB_FUSED_TARGET CWB_QUANT_AVX2
#define CWB_FUSED_ISA Avx2Ops
#define CWB_FUSED_ENTRY fusedKernelsAvx2
#include "core/compress/fused_body.h"
