// AVX2 activation quantizers for the dot products: Q8_0, Q8_1 (per 32 values) and Q8_K (per
// 256). For finite inputs they write the reference quantizers' bytes: the same scalar scale, the
// same float products, and roundf or round-half-even rebuilt exactly in vector form.
#include <algorithm>

#include "core/quant/avx2_encode.h"
#include "core/quant/block_layouts.h"
#include "core/quant/fp16.h"
#include "core/quant/kernels.h"
#include "core/quant/simd_target.h"

namespace cwb::quant::detail {
namespace {

using namespace avx2;

// max |x| over `n` values (a multiple of 8); exact in any order. NaN never wins, as in the
// reference (max returns its second operand when the first is NaN).
CWB_QUANT_AVX2 inline float absMax(const float* x, int n) {
    __m256 m = _mm256_setzero_ps();
    for (int j = 0; j < n; j += 8) m = _mm256_max_ps(absf(_mm256_loadu_ps(x + j)), m);
    return hmax(m);
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
        q[k] = _mm256_cvtps_epi32(roundHalfAway(_mm256_mul_ps(_mm256_loadu_ps(x + 8 * k), vid)));
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
