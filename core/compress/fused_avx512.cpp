// The fused pass's kernels for AVX-512 (F, BW, VL): fused_body.h over 16 float lanes with
// mask registers, the 8 double lanes of the sums in one register.
#include <bit>
#include <cstdint>

#include "core/quant/simd_target.h"
#include "core/util/vector_ops.h"

namespace cwb::fused {
namespace {

struct Avx512Ops {
    CWB_VECTOR_OPS(CWB_QUANT_AVX512, 512, _mm512, si512, __mmask16, _mm512_cmp_ps_mask)

    CWB_QUANT_AVX512 static F abs(F x) { return _mm512_abs_ps(x); }
    CWB_QUANT_AVX512 static F trunc(F x) {
        return _mm512_roundscale_ps(x, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
    }
    CWB_QUANT_AVX512 static F signedOne(F x) {
        const I sign = _mm512_and_si512(_mm512_castps_si512(x),
                                        _mm512_set1_epi32(static_cast<int>(0x80000000u)));
        return _mm512_castsi512_ps(_mm512_or_si512(sign, _mm512_castps_si512(_mm512_set1_ps(1.f))));
    }
    CWB_QUANT_AVX512 static F select(M m, F yes, F no) { return _mm512_mask_mov_ps(no, m, yes); }
    CWB_QUANT_AVX512 static M keepBytes(const std::uint8_t* p) {
        const I bytes = _mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
        return _mm512_test_epi32_mask(bytes, bytes);
    }

    CWB_QUANT_AVX512 static I selectI(M m, I yes, I no) {
        return _mm512_mask_mov_epi32(no, m, yes);
    }
    CWB_QUANT_AVX512 static void storeU16(std::uint16_t* p, I v) {
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(p), _mm512_cvtepi32_epi16(v));
    }

    using D8 = __m512d;
    CWB_QUANT_AVX512 static D8 widen8(const float* p) {
        return _mm512_cvtps_pd(_mm256_loadu_ps(p));
    }
    CWB_QUANT_AVX512 static D8 loadD(const double* p) { return _mm512_loadu_pd(p); }
    CWB_QUANT_AVX512 static void storeD(double* p, D8 v) { _mm512_storeu_pd(p, v); }
    CWB_QUANT_AVX512 static D8 set1D(double x) { return _mm512_set1_pd(x); }
    CWB_QUANT_AVX512 static D8 subD(D8 a, D8 b) { return _mm512_sub_pd(a, b); }
    CWB_QUANT_AVX512 static D8 fmaD(D8 a, D8 b, D8 c) { return _mm512_fmadd_pd(a, b, c); }
    CWB_QUANT_AVX512 static D8 absD(D8 x) { return _mm512_abs_pd(x); }
    CWB_QUANT_AVX512 static D8 maxD(D8 a, D8 b) { return _mm512_max_pd(a, b); }
    CWB_QUANT_AVX512 static double reduceMaxD(D8 v) { return _mm512_reduce_max_pd(v); }
    using Zeros = long long;
    static Zeros noZeros() { return 0; }
    CWB_QUANT_AVX512 static Zeros addZeros8(Zeros n, const float* p) {
        const __mmask8 eq = _mm256_cmp_ps_mask(_mm256_loadu_ps(p), _mm256_setzero_ps(), _CMP_EQ_OQ);
        return n + std::popcount(static_cast<unsigned>(eq));
    }
    static long long total(Zeros n) { return n; }
};

}  // namespace
}  // namespace cwb::fused

#define CWB_FUSED_TARGET CWB_QUANT_AVX512
#define CWB_FUSED_ISA Avx512Ops
#define CWB_FUSED_ENTRY fusedKernelsAvx512
#include "core/compress/fused_body.h"
