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
#include "core/quant/tile_common.h"

namespace cwb::quant::detail {
namespace {

using namespace avx2;

// Sums of 4 products per int32 lane: signed x signed, and unsigned x signed.
CWB_QUANT_AVX2 inline __m256i mulSumS8(__m256i x, __m256i y) {
    const __m256i pairs = _mm256_maddubs_epi16(_mm256_sign_epi8(x, x), _mm256_sign_epi8(y, x));
    return _mm256_madd_epi16(pairs, _mm256_set1_epi16(1));
}
CWB_QUANT_AVX2 inline __m256i mulSumU8S8(__m256i u, __m256i s) {
    return _mm256_madd_epi16(_mm256_maddubs_epi16(u, s), _mm256_set1_epi16(1));
}
// Codes u (0..63) times activations, weighted by one scale.
CWB_QUANT_AVX2 inline __m256i scaledAll(__m256i u, __m256i a, int scale) {
    return _mm256_madd_epi16(_mm256_maddubs_epi16(u, a),
                             _mm256_set1_epi16(static_cast<short>(scale)));
}

}  // namespace

// ---- 32-value formats: two accumulators so that consecutive blocks overlap. Codes less
// their offset (8, 16) or signed (Q8_0) multiply as signed bytes; codes with a minimum
// (Q4_1, Q5_1) as unsigned ones, the minimums added per block.

template <typename Block, typename ActBlock, tiles::Legacy kind>
CWB_QUANT_AVX2 inline float dotLegacyAvx2(const std::byte* w, const std::byte* a, std::int64_t n) {
    const auto* x = blocksOf<Block>(w);
    const auto* y = blocksOf<ActBlock>(a);
    constexpr int offset = kind == tiles::Legacy::Offset8    ? 8
                           : kind == tiles::Legacy::Offset16 ? 16
                                                             : 0;
    __m256 acc[2] = {_mm256_setzero_ps(), _mm256_setzero_ps()};
    float mins = 0.f;
    for (std::int64_t i = 0; i < n / kQK; ++i) {
        __m256i sums;
        if constexpr (kind == tiles::Legacy::Min) {
            sums = mulSumU8S8(codes(x[i]), load32(y[i].qs));
            mins += h2f(x[i].m) * h2f(y[i].s);
        } else if constexpr (offset != 0) {
            sums =
                mulSumS8(_mm256_sub_epi8(codes(x[i]), _mm256_set1_epi8(offset)), load32(y[i].qs));
        } else {
            sums = mulSumS8(codes(x[i]), load32(y[i].qs));
        }
        const __m256 p = _mm256_cvtepi32_ps(sums);
        acc[i & 1] = _mm256_fmadd_ps(_mm256_set1_ps(h2f(x[i].d) * h2f(y[i].d)), p, acc[i & 1]);
    }
    if constexpr (kind == tiles::Legacy::Min) return hsum(_mm256_add_ps(acc[0], acc[1])) + mins;
    return hsum(_mm256_add_ps(acc[0], acc[1]));
}

CWB_QUANT_AVX2 float dotQ4_0Avx2(const std::byte* w, const std::byte* a, std::int64_t n) {
    return dotLegacyAvx2<BlockQ4_0, BlockQ8_0, tiles::Legacy::Offset8>(w, a, n);
}
CWB_QUANT_AVX2 float dotQ5_0Avx2(const std::byte* w, const std::byte* a, std::int64_t n) {
    return dotLegacyAvx2<BlockQ5_0, BlockQ8_0, tiles::Legacy::Offset16>(w, a, n);
}
CWB_QUANT_AVX2 float dotQ4_1Avx2(const std::byte* w, const std::byte* a, std::int64_t n) {
    return dotLegacyAvx2<BlockQ4_1, BlockQ8_1, tiles::Legacy::Min>(w, a, n);
}
CWB_QUANT_AVX2 float dotQ5_1Avx2(const std::byte* w, const std::byte* a, std::int64_t n) {
    return dotLegacyAvx2<BlockQ5_1, BlockQ8_1, tiles::Legacy::Min>(w, a, n);
}
CWB_QUANT_AVX2 float dotQ8_0Avx2(const std::byte* w, const std::byte* a, std::int64_t n) {
    return dotLegacyAvx2<BlockQ8_0, BlockQ8_0, tiles::Legacy::Signed>(w, a, n);
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

namespace {

// Byte masks picking, for group g % 4 of a 128-value half, int16 scale 2 (g % 4) for the low
// 128-bit lane and 2 (g % 4) + 1 for the high one.
struct GroupMasks {
    alignas(32) std::uint8_t bytes[4][32];
    constexpr GroupMasks() : bytes() {
        for (int m = 0; m < 4; ++m)
            for (int i = 0; i < 16; ++i) {
                bytes[m][i] = static_cast<std::uint8_t>(4 * m + i % 2);
                bytes[m][16 + i] = static_cast<std::uint8_t>(4 * m + 2 + i % 2);
            }
    }
};
constexpr GroupMasks kGroupMasks;

// The 16 int8 scales of a super-block's sub-blocks of 16, spread for madd per group of 32.
struct SpreadScales {
    __m256i low, high;  // scales 0-7 and 8-15 as int16, in both 128-bit lanes
};
CWB_QUANT_AVX2 inline SpreadScales spread(__m128i scales8) {
    const __m256i s = _mm256_cvtepi8_epi16(scales8);
    return {_mm256_permute2x128_si256(s, s, 0x00), _mm256_permute2x128_si256(s, s, 0x11)};
}
CWB_QUANT_AVX2 inline __m256i groupScales(const SpreadScales& s, int g) {
    return _mm256_shuffle_epi8(g < 4 ? s.low : s.high, load32(kGroupMasks.bytes[g % 4]));
}
// sum over sub-blocks of coefficient x bsum, as 8 int32 lanes to add up later.
CWB_QUANT_AVX2 inline __m256i weightedBsums(__m128i coef8, const BlockQ8_K& a) {
    return _mm256_madd_epi16(
        _mm256_cvtepi8_epi16(coef8),
        load32(reinterpret_cast<const std::byte*>(&a) + offsetof(BlockQ8_K, bsums)));
}

// Q3_K's 16 scales, unpacked from 12 bytes: low nibbles of bytes 0-7 (scales 0-7) and their
// high nibbles (8-15), the top 2 bits from bytes 8-11 at bits 2 (j / 4), less 32.
CWB_QUANT_AVX2 inline __m128i scalesQ3(const std::uint8_t* packed) {
    std::uint64_t low;
    std::uint32_t top;
    std::memcpy(&low, packed, 8);
    std::memcpy(&top, packed + 8, 4);
    const __m128i l = _mm_set1_epi64x(static_cast<long long>(low));
    const __m128i nibbles =
        _mm_and_si128(_mm_unpacklo_epi64(l, _mm_srli_epi16(l, 4)), _mm_set1_epi8(0x0f));
    const __m128i high = _mm_and_si128(
        _mm_srlv_epi32(_mm_set1_epi32(static_cast<int>(top)), _mm_setr_epi32(0, 2, 4, 6)),
        _mm_set1_epi8(0x03));
    return _mm_sub_epi8(_mm_or_si128(nibbles, _mm_slli_epi16(high, 4)), _mm_set1_epi8(32));
}

// sum + the 8 groups' codes against the activations, each 16 values weighted by their scale.
CWB_QUANT_AVX2 inline __m256i groupSums(__m256i sum, const __m256i* u, const std::int8_t* qs,
                                        const SpreadScales& sc) {
    for (int g = 0; g < 8; ++g)
        sum = _mm256_add_epi32(
            sum,
            _mm256_madd_epi16(_mm256_maddubs_epi16(u[g], load32(qs + 32 * g)), groupScales(sc, g)));
    return sum;
}

// The 16 signed sub-block scales of the formats with an offset.
CWB_QUANT_AVX2 inline __m128i offsetScales(const BlockQ3_K& b) { return scalesQ3(b.scales); }
CWB_QUANT_AVX2 inline __m128i offsetScales(const BlockQ6_K& b) {
    return _mm_loadu_si128(reinterpret_cast<const __m128i*>(b.scales));
}

// Q3_K and Q6_K: codes + 2^shift (4, 32) against the activations; 2^shift * sum(scale *
// bsum) taken off.
template <typename Block, int shift>
CWB_QUANT_AVX2 inline float dotOffsetScalesAvx2(const std::byte* w, const std::byte* a,
                                                std::int64_t n) {
    const auto* x = blocksOf<Block>(w);
    const auto* y = blocksOf<BlockQ8_K>(a);
    __m256 acc = _mm256_setzero_ps();
    __m256i u[8];
    for (std::int64_t i = 0; i < n / kQKK; ++i) {
        const __m128i scales = offsetScales(x[i]);
        const __m256i offset = _mm256_slli_epi32(weightedBsums(scales, y[i]), shift);
        codes(x[i], u);
        const __m256i sum =
            groupSums(_mm256_sub_epi32(_mm256_setzero_si256(), offset), u, y[i].qs, spread(scales));
        acc = _mm256_fmadd_ps(_mm256_set1_ps(h2f(x[i].d) * y[i].d), _mm256_cvtepi32_ps(sum), acc);
    }
    return hsum(acc);
}

}  // namespace

CWB_QUANT_AVX2 float dotQ2_KAvx2(const std::byte* w, const std::byte* a, std::int64_t n) {
    const auto* x = blocksOf<BlockQ2_K>(w);
    const auto* y = blocksOf<BlockQ8_K>(a);
    __m256 acc = _mm256_setzero_ps(), minAcc = _mm256_setzero_ps();
    __m256i u[8];
    for (std::int64_t i = 0; i < n / kQKK; ++i) {
        const __m128i packed = _mm_loadu_si128(reinterpret_cast<const __m128i*>(x[i].scales));
        const __m128i low = _mm_set1_epi8(0x0f);
        const SpreadScales sc = spread(_mm_and_si128(packed, low));
        const __m256i mins = weightedBsums(_mm_and_si128(_mm_srli_epi16(packed, 4), low), y[i]);
        codes(x[i], u);
        const __m256i sum = groupSums(_mm256_setzero_si256(), u, y[i].qs, sc);
        acc = _mm256_fmadd_ps(_mm256_set1_ps(y[i].d * h2f(x[i].d)), _mm256_cvtepi32_ps(sum), acc);
        minAcc = _mm256_fmadd_ps(_mm256_set1_ps(y[i].d * h2f(x[i].dmin)), _mm256_cvtepi32_ps(mins),
                                 minAcc);
    }
    return hsum(_mm256_sub_ps(acc, minAcc));
}

CWB_QUANT_AVX2 float dotQ3_KAvx2(const std::byte* w, const std::byte* a, std::int64_t n) {
    return dotOffsetScalesAvx2<BlockQ3_K, 2>(w, a, n);
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

CWB_QUANT_AVX2 float dotQ6_KAvx2(const std::byte* w, const std::byte* a, std::int64_t n) {
    return dotOffsetScalesAvx2<BlockQ6_K, 5>(w, a, n);
}

}  // namespace cwb::quant::detail
