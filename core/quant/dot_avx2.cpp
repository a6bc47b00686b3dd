// AVX2 kernels: dot products of packed weight blocks with Q8 activation blocks through
// _mm256_maddubs_epi16 (u8 x s8 pairs) and _mm256_madd_epi16, and the activation quantizers.
// Integer sums per block are exact; only the float accumulation order differs from the
// reference. Activation codes lie in [-127, 127] (the quantizers never write -128), which
// the sign trick of the signed products needs.
#include <cstddef>

#include "core/quant/avx2_blocks.h"
#include "core/quant/block_layouts.h"
#include "core/quant/fp16.h"
#include "core/quant/k_scales.h"
#include "core/quant/kernels.h"
#include "core/quant/simd_target.h"

namespace cwb::quant::detail {
namespace {

using namespace avx2;

template <typename Block>
const Block* blocksOf(const std::byte* p) {
    return reinterpret_cast<const Block*>(p);
}

// Sums of 4 products per int32 lane: signed x signed, and unsigned x signed.
CWB_QUANT_AVX2 inline __m256i mulSumS8(__m256i x, __m256i y) {
    const __m256i pairs = _mm256_maddubs_epi16(_mm256_sign_epi8(x, x), _mm256_sign_epi8(y, x));
    return _mm256_madd_epi16(pairs, _mm256_set1_epi16(1));
}
CWB_QUANT_AVX2 inline __m256i mulSumU8S8(__m256i u, __m256i s) {
    return _mm256_madd_epi16(_mm256_maddubs_epi16(u, s), _mm256_set1_epi16(1));
}
// Codes u (0..63) times activations, each half of 16 weighted by its own scale.
CWB_QUANT_AVX2 inline __m256i scaledPair(__m256i u, __m256i a, int scaleLow, int scaleHigh) {
    const __m256i scales = _mm256_set_m128i(_mm_set1_epi16(static_cast<short>(scaleHigh)),
                                            _mm_set1_epi16(static_cast<short>(scaleLow)));
    return _mm256_madd_epi16(_mm256_maddubs_epi16(u, a), scales);
}
CWB_QUANT_AVX2 inline __m256i scaledAll(__m256i u, __m256i a, int scale) {
    return _mm256_madd_epi16(_mm256_maddubs_epi16(u, a),
                             _mm256_set1_epi16(static_cast<short>(scale)));
}

}  // namespace

// ---- 32-value formats: two accumulators so that consecutive blocks overlap.

CWB_QUANT_AVX2 float dotQ4_0Avx2(const std::byte* w, const std::byte* a, std::int64_t n) {
    const auto* x = blocksOf<BlockQ4_0>(w);
    const auto* y = blocksOf<BlockQ8_0>(a);
    __m256 acc[2] = {_mm256_setzero_ps(), _mm256_setzero_ps()};
    const __m256i eight = _mm256_set1_epi8(8);
    for (std::int64_t i = 0; i < n / kQK; ++i) {
        const __m256i q = _mm256_sub_epi8(codes(x[i]), eight);
        const __m256 p = _mm256_cvtepi32_ps(mulSumS8(q, load32(y[i].qs)));
        acc[i & 1] = _mm256_fmadd_ps(_mm256_set1_ps(h2f(x[i].d) * h2f(y[i].d)), p, acc[i & 1]);
    }
    return hsum(_mm256_add_ps(acc[0], acc[1]));
}

CWB_QUANT_AVX2 float dotQ5_0Avx2(const std::byte* w, const std::byte* a, std::int64_t n) {
    const auto* x = blocksOf<BlockQ5_0>(w);
    const auto* y = blocksOf<BlockQ8_0>(a);
    __m256 acc[2] = {_mm256_setzero_ps(), _mm256_setzero_ps()};
    const __m256i sixteen = _mm256_set1_epi8(16);
    for (std::int64_t i = 0; i < n / kQK; ++i) {
        const __m256i q = _mm256_sub_epi8(codes(x[i]), sixteen);
        const __m256 p = _mm256_cvtepi32_ps(mulSumS8(q, load32(y[i].qs)));
        acc[i & 1] = _mm256_fmadd_ps(_mm256_set1_ps(h2f(x[i].d) * h2f(y[i].d)), p, acc[i & 1]);
    }
    return hsum(_mm256_add_ps(acc[0], acc[1]));
}

CWB_QUANT_AVX2 float dotQ4_1Avx2(const std::byte* w, const std::byte* a, std::int64_t n) {
    const auto* x = blocksOf<BlockQ4_1>(w);
    const auto* y = blocksOf<BlockQ8_1>(a);
    __m256 acc[2] = {_mm256_setzero_ps(), _mm256_setzero_ps()};
    float mins = 0.f;
    for (std::int64_t i = 0; i < n / kQK; ++i) {
        const __m256 p = _mm256_cvtepi32_ps(mulSumU8S8(codes(x[i]), load32(y[i].qs)));
        acc[i & 1] = _mm256_fmadd_ps(_mm256_set1_ps(h2f(x[i].d) * h2f(y[i].d)), p, acc[i & 1]);
        mins += h2f(x[i].m) * h2f(y[i].s);
    }
    return hsum(_mm256_add_ps(acc[0], acc[1])) + mins;
}

CWB_QUANT_AVX2 float dotQ5_1Avx2(const std::byte* w, const std::byte* a, std::int64_t n) {
    const auto* x = blocksOf<BlockQ5_1>(w);
    const auto* y = blocksOf<BlockQ8_1>(a);
    __m256 acc[2] = {_mm256_setzero_ps(), _mm256_setzero_ps()};
    float mins = 0.f;
    for (std::int64_t i = 0; i < n / kQK; ++i) {
        const __m256 p = _mm256_cvtepi32_ps(mulSumU8S8(codes(x[i]), load32(y[i].qs)));
        acc[i & 1] = _mm256_fmadd_ps(_mm256_set1_ps(h2f(x[i].d) * h2f(y[i].d)), p, acc[i & 1]);
        mins += h2f(x[i].m) * h2f(y[i].s);
    }
    return hsum(_mm256_add_ps(acc[0], acc[1])) + mins;
}

CWB_QUANT_AVX2 float dotQ8_0Avx2(const std::byte* w, const std::byte* a, std::int64_t n) {
    const auto* x = blocksOf<BlockQ8_0>(w);
    const auto* y = blocksOf<BlockQ8_0>(a);
    __m256 acc[2] = {_mm256_setzero_ps(), _mm256_setzero_ps()};
    for (std::int64_t i = 0; i < n / kQK; ++i) {
        const __m256 p = _mm256_cvtepi32_ps(mulSumS8(load32(x[i].qs), load32(y[i].qs)));
        acc[i & 1] = _mm256_fmadd_ps(_mm256_set1_ps(h2f(x[i].d) * h2f(y[i].d)), p, acc[i & 1]);
    }
    return hsum(_mm256_add_ps(acc[0], acc[1]));
}

// ---- K formats: per super-block an exact int32 sum of scale x (codes . activations); the
// constant offsets of signed codes and the minimums come from Q8_K's sums of 16 (bsums).

namespace {
int bsum(const BlockQ8_K& b, int j) {
    std::int16_t v;
    std::memcpy(&v, reinterpret_cast<const std::byte*>(&b) + offsetof(BlockQ8_K, bsums) + 2 * j, 2);
    return v;
}
}  // namespace

CWB_QUANT_AVX2 float dotQ2_KAvx2(const std::byte* w, const std::byte* a, std::int64_t n) {
    const auto* x = blocksOf<BlockQ2_K>(w);
    const auto* y = blocksOf<BlockQ8_K>(a);
    __m256 acc = _mm256_setzero_ps();
    float minTerm = 0.f;
    __m256i u[8];
    for (std::int64_t i = 0; i < n / kQKK; ++i) {
        int mins = 0;
        for (int j = 0; j < 16; ++j) mins += (x[i].scales[j] >> 4) * bsum(y[i], j);
        codes(x[i], u);
        __m256i sum = _mm256_setzero_si256();
        for (int g = 0; g < 8; ++g)
            sum = _mm256_add_epi32(
                sum, scaledPair(u[g], load32(y[i].qs + 32 * g), x[i].scales[2 * g] & 0xf,
                                x[i].scales[2 * g + 1] & 0xf));
        acc = _mm256_fmadd_ps(_mm256_set1_ps(y[i].d * h2f(x[i].d)), _mm256_cvtepi32_ps(sum), acc);
        minTerm += y[i].d * h2f(x[i].dmin) * static_cast<float>(mins);
    }
    return hsum(acc) - minTerm;
}

// Codes + 4 against the activations; 4 * sum(scale * bsum) taken off.
CWB_QUANT_AVX2 float dotQ3_KAvx2(const std::byte* w, const std::byte* a, std::int64_t n) {
    const auto* x = blocksOf<BlockQ3_K>(w);
    const auto* y = blocksOf<BlockQ8_K>(a);
    __m256 acc = _mm256_setzero_ps();
    float offsetTerm = 0.f;
    __m256i u[8];
    for (std::int64_t i = 0; i < n / kQKK; ++i) {
        int scales[16], offset = 0;
        for (int j = 0; j < 16; ++j) {
            scales[j] = scaleQ3(x[i].scales, j);
            offset += scales[j] * bsum(y[i], j);
        }
        codes(x[i], u);
        __m256i sum = _mm256_setzero_si256();
        for (int g = 0; g < 8; ++g)
            sum = _mm256_add_epi32(
                sum, scaledPair(u[g], load32(y[i].qs + 32 * g), scales[2 * g], scales[2 * g + 1]));
        const float d = h2f(x[i].d) * y[i].d;
        acc = _mm256_fmadd_ps(_mm256_set1_ps(d), _mm256_cvtepi32_ps(sum), acc);
        offsetTerm += d * static_cast<float>(4 * offset);
    }
    return hsum(acc) - offsetTerm;
}

// Q4_K and Q5_K: one scale per group of 32, minimums from the sums of 16.
template <typename Block>
CWB_QUANT_AVX2 inline float dotScaleMinAvx2(const std::byte* w, const std::byte* a,
                                            std::int64_t n) {
    const auto* x = blocksOf<Block>(w);
    const auto* y = blocksOf<BlockQ8_K>(a);
    __m256 acc = _mm256_setzero_ps();
    float minTerm = 0.f;
    __m256i u[8];
    for (std::int64_t i = 0; i < n / kQKK; ++i) {
        int sc[8], m[8], mins = 0;
        for (int j = 0; j < 8; ++j) {
            scaleMinK4(x[i].scales, j, sc[j], m[j]);
            mins += m[j] * (bsum(y[i], 2 * j) + bsum(y[i], 2 * j + 1));
        }
        codes(x[i], u);
        __m256i sum = _mm256_setzero_si256();
        for (int g = 0; g < 8; ++g)
            sum = _mm256_add_epi32(sum, scaledAll(u[g], load32(y[i].qs + 32 * g), sc[g]));
        acc = _mm256_fmadd_ps(_mm256_set1_ps(y[i].d * h2f(x[i].d)), _mm256_cvtepi32_ps(sum), acc);
        minTerm += y[i].d * h2f(x[i].dmin) * static_cast<float>(mins);
    }
    return hsum(acc) - minTerm;
}

CWB_QUANT_AVX2 float dotQ4_KAvx2(const std::byte* w, const std::byte* a, std::int64_t n) {
    return dotScaleMinAvx2<BlockQ4_K>(w, a, n);
}
CWB_QUANT_AVX2 float dotQ5_KAvx2(const std::byte* w, const std::byte* a, std::int64_t n) {
    return dotScaleMinAvx2<BlockQ5_K>(w, a, n);
}

// Codes + 32 against the activations; 32 * sum(scale * bsum) taken off.
CWB_QUANT_AVX2 float dotQ6_KAvx2(const std::byte* w, const std::byte* a, std::int64_t n) {
    const auto* x = blocksOf<BlockQ6_K>(w);
    const auto* y = blocksOf<BlockQ8_K>(a);
    __m256 acc = _mm256_setzero_ps();
    float offsetTerm = 0.f;
    __m256i u[8];
    for (std::int64_t i = 0; i < n / kQKK; ++i) {
        int offset = 0;
        for (int j = 0; j < 16; ++j) offset += x[i].scales[j] * bsum(y[i], j);
        codes(x[i], u);
        __m256i sum = _mm256_setzero_si256();
        for (int g = 0; g < 8; ++g)
            sum = _mm256_add_epi32(sum, scaledPair(u[g], load32(y[i].qs + 32 * g),
                                                   x[i].scales[2 * g], x[i].scales[2 * g + 1]));
        const float d = h2f(x[i].d) * y[i].d;
        acc = _mm256_fmadd_ps(_mm256_set1_ps(d), _mm256_cvtepi32_ps(sum), acc);
        offsetTerm += d * static_cast<float>(32 * offset);
    }
    return hsum(acc) - offsetTerm;
}

}  // namespace cwb::quant::detail
