// AVX2 activation quantizers for the dot products: Q8_0, Q8_1 (per 32 values) and Q8_K (per
// 256). For finite inputs they write the reference quantizers' bytes: the same scalar scale, the
// same float products, and roundf or round-half-even rebuilt exactly in vector form.
#include <algorithm>

#include "core/quant/block_layouts.h"
#include "core/quant/fp16.h"
#include "core/quant/kernels.h"
#include "core/quant/simd_target.h"

namespace cwb::quant::detail {
namespace {

CWB_QUANT_AVX2 inline float hmax(__m256 v) {
    __m128 m = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    m = _mm_max_ps(m, _mm_movehl_ps(m, m));
    m = _mm_max_ss(m, _mm_movehdup_ps(m));
    return _mm_cvtss_f32(m);
}

CWB_QUANT_AVX2 inline __m256 absf(__m256 v) { return _mm256_andnot_ps(_mm256_set1_ps(-0.0f), v); }

// max |x| over `n` values (a multiple of 8); exact in any order. NaN never wins, as in the
// reference (max returns its second operand when the first is NaN).
CWB_QUANT_AVX2 inline float absMax(const float* x, int n) {
    __m256 m = _mm256_setzero_ps();
    for (int j = 0; j < n; j += 8) m = _mm256_max_ps(absf(_mm256_loadu_ps(x + j)), m);
    return hmax(m);
}

// roundf: half away from zero. v - trunc(v) is exact, so the comparison with 0.5 is too.
CWB_QUANT_AVX2 inline __m256i roundHalfAway(__m256 v) {
    const __m256 t = _mm256_round_ps(v, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
    const __m256 frac = absf(_mm256_sub_ps(v, t));
    const __m256 up = _mm256_cmp_ps(frac, _mm256_set1_ps(0.5f), _CMP_GE_OQ);
    const __m256 step = _mm256_or_ps(_mm256_set1_ps(1.0f), _mm256_and_ps(v, _mm256_set1_ps(-0.0f)));
    return _mm256_cvtps_epi32(_mm256_add_ps(t, _mm256_and_ps(up, step)));
}

// Four vectors of 8 int32 (values in int8 range) to 32 int8 in order.
CWB_QUANT_AVX2 inline __m256i packBytes(__m256i a, __m256i b, __m256i c, __m256i d) {
    const __m256i ab = _mm256_packs_epi32(a, b);  // per 128-bit lane: a0-3 b0-3 | a4-7 b4-7
    const __m256i cd = _mm256_packs_epi32(c, d);
    const __m256i bytes = _mm256_packs_epi16(ab, cd);  // a0-3 b0-3 c0-3 d0-3 | a4-7 ...
    return _mm256_permutevar8x32_epi32(bytes, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
}

CWB_QUANT_AVX2 inline int hsumInt(__m256i v) {
    __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    s = _mm_add_epi32(s, _mm_unpackhi_epi64(s, s));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 1));
    return _mm_cvtsi128_si32(s);
}

// One block of 32 as Q8_0/Q8_1 codes; returns the scale and the sum of the codes.
CWB_QUANT_AVX2 inline float quantize32(const float* x, std::uint16_t& dOut, std::int8_t* qs,
                                       int& sum) {
    const float amax = absMax(x, kQK);
    const float d = amax / 127;
    const float id = d != 0.f ? 1.0f / d : 0.0f;
    dOut = floatToHalf(d);
    const __m256 vid = _mm256_set1_ps(id);
    __m256i q[4];
    for (int k = 0; k < 4; ++k)
        q[k] = roundHalfAway(_mm256_mul_ps(_mm256_loadu_ps(x + 8 * k), vid));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(qs), packBytes(q[0], q[1], q[2], q[3]));
    sum = hsumInt(_mm256_add_epi32(_mm256_add_epi32(q[0], q[1]), _mm256_add_epi32(q[2], q[3])));
    return d;
}

}  // namespace

CWB_QUANT_AVX2 void quantizeQ8_0Avx2(const float* in, std::byte* blocks, std::int64_t n) {
    auto* y = reinterpret_cast<BlockQ8_0*>(blocks);
    for (std::int64_t i = 0; i < n / kQK; ++i) {
        std::uint16_t d;
        int sum;
        quantize32(in + i * kQK, d, y[i].qs, sum);
        y[i].d = d;
    }
}

CWB_QUANT_AVX2 void quantizeQ8_1Avx2(const float* in, std::byte* blocks, std::int64_t n) {
    auto* y = reinterpret_cast<BlockQ8_1*>(blocks);
    for (std::int64_t i = 0; i < n / kQK; ++i) {
        std::uint16_t dh;
        int sum;
        const float d = quantize32(in + i * kQK, dh, y[i].qs, sum);
        y[i].d = dh;
        y[i].s = floatToHalf(static_cast<float>(sum) * d);
    }
}

CWB_QUANT_AVX2 void quantizeQ8_KAvx2(const float* in, std::byte* blocks, std::int64_t n) {
    auto* y = reinterpret_cast<BlockQ8_K*>(blocks);
    for (std::int64_t i = 0; i < n / kQKK; ++i) {
        const float* x = in + i * kQKK;
        const float amax = absMax(x, kQKK);
        if (amax == 0.f) {
            std::memset(&y[i], 0, sizeof(BlockQ8_K));
            continue;
        }
        // The reference takes the first value of largest magnitude, with its sign.
        const float* first =
            std::find_if(x, x + kQKK, [amax](float v) { return std::fabs(v) == amax; });
        const float max = first != x + kQKK ? *first : amax;
        const float iscale = -127.f / max;
        const __m256 vscale = _mm256_set1_ps(iscale);
        const __m256i top = _mm256_set1_epi32(127);
        std::int16_t bsums[16];
        for (int g = 0; g < kQKK; g += 32) {
            __m256i q[4];
            for (int k = 0; k < 4; ++k) {
                const __m256 v =
                    _mm256_round_ps(_mm256_mul_ps(_mm256_loadu_ps(x + g + 8 * k), vscale),
                                    _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
                q[k] = _mm256_min_epi32(_mm256_cvtps_epi32(v), top);
            }
            _mm256_storeu_si256(reinterpret_cast<__m256i*>(y[i].qs + g),
                                packBytes(q[0], q[1], q[2], q[3]));
            bsums[g / 16] = static_cast<std::int16_t>(hsumInt(_mm256_add_epi32(q[0], q[1])));
            bsums[g / 16 + 1] = static_cast<std::int16_t>(hsumInt(_mm256_add_epi32(q[2], q[3])));
        }
        std::memcpy(reinterpret_cast<std::byte*>(&y[i]) + offsetof(BlockQ8_K, bsums), bsums,
                    sizeof bsums);
        y[i].d = 1 / iscale;
    }
}

}  // namespace cwb::quant::detail
