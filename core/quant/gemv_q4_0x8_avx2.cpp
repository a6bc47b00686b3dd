// Generation's Q4_0 product over rows interleaved by eight (see interleaveQ4_0 in
// quant_rows.h), AVX2. A group's block i is its eight fp16 scales then four runs of 32 bytes,
// run c holding bytes 4c..4c+3 of each row's codes, row k at 4k. So one broadcast of four
// activations meets four codes of all eight rows in one maddubs, and the group's eight sums
// land one per int32 lane: no horizontal sums, one scale conversion and one multiply-add per
// block for eight rows. The codes' offset of 8 is taken off as 8 x (the activations' sums),
// once per block for every group.
#include <cstring>
#include <vector>

#include "core/quant/avx2_blocks.h"
#include "core/quant/block_layouts.h"
#include "core/quant/gemv_kernels.h"

namespace cwb::quant::detail {
namespace {

using namespace avx2;

CWB_QUANT_AVX2 inline __m256i broadcast4(const std::int8_t* p) {
    std::int32_t v;
    std::memcpy(&v, p, 4);
    return _mm256_set1_epi32(v);
}

// The eight rows of the group at g against the blocks of activations `a` with their scales and
// offsets.
CWB_QUANT_AVX2 void groupQ4_0x8(const std::uint8_t* g, const BlockQ8_0* a, const float* dy,
                                const std::int32_t* offsets, std::int64_t blocks, float* y) {
    const __m256i low = _mm256_set1_epi8(0x0f), ones = _mm256_set1_epi16(1);
    __m256 acc = _mm256_setzero_ps();
    for (std::int64_t i = 0; i < blocks; ++i, g += kQ4_0x8BlockBytes) {
        const std::int8_t* qa = a[i].qs;
        __m256i pairs = _mm256_setzero_si256();
        for (int c = 0; c < 4; ++c) {
            const __m256i q = load32(g + 16 + 32 * c);
            // Pair sums of 15 x 127 at most: eight of them still fit int16.
            pairs = _mm256_add_epi16(
                pairs, _mm256_maddubs_epi16(_mm256_and_si256(q, low), broadcast4(qa + 4 * c)));
            pairs = _mm256_add_epi16(
                pairs, _mm256_maddubs_epi16(_mm256_and_si256(_mm256_srli_epi16(q, 4), low),
                                            broadcast4(qa + 16 + 4 * c)));
        }
        const __m256i sums =
            _mm256_sub_epi32(_mm256_madd_epi16(pairs, ones), _mm256_set1_epi32(offsets[i]));
        const __m256 dx = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(g)));
        acc = _mm256_fmadd_ps(_mm256_mul_ps(dx, _mm256_set1_ps(dy[i])), _mm256_cvtepi32_ps(sums),
                              acc);
    }
    _mm256_storeu_ps(y, acc);
}

}  // namespace

CWB_QUANT_AVX2 void gemvQ4_0x8Avx2(const std::byte* w, std::int64_t firstGroup, std::int64_t groups,
                                   const std::byte* activations, std::int64_t n, float* y) {
    const std::int64_t blocks = n / kQK;
    const auto* a = reinterpret_cast<const BlockQ8_0*>(activations);
    // Kept from call to call: the activations' scales and offsets, shared by the groups.
    thread_local std::vector<float> dy;
    thread_local std::vector<std::int32_t> offsets;
    dy.resize(static_cast<std::size_t>(blocks));
    offsets.resize(static_cast<std::size_t>(blocks));
    const __m256i eight = _mm256_set1_epi8(8);
    for (std::int64_t i = 0; i < blocks; ++i) {
        dy[static_cast<std::size_t>(i)] = h2f(a[i].d);
        offsets[static_cast<std::size_t>(i)] = hsumInt(
            _mm256_madd_epi16(_mm256_maddubs_epi16(eight, load32(a[i].qs)), _mm256_set1_epi16(1)));
    }
    const std::size_t groupBytes = static_cast<std::size_t>(blocks) * kQ4_0x8BlockBytes;
    for (std::int64_t g = 0; g < groups; ++g)
        groupQ4_0x8(reinterpret_cast<const std::uint8_t*>(w) +
                        static_cast<std::size_t>(firstGroup + g) * groupBytes,
                    a, dy.data(), offsets.data(), blocks, y + 8 * g);
}

CWB_QUANT_AVX2 void plainGroupsQ4_0x8Avx2(const std::byte* w, std::int64_t groups,
                                          std::int64_t blocks, std::byte* out) {
    const std::size_t rowBytes = static_cast<std::size_t>(blocks) * sizeof(BlockQ4_0);
    const auto* g = reinterpret_cast<const std::uint8_t*>(w);
    for (std::int64_t group = 0; group < groups; ++group, out += 8 * rowBytes)
        for (std::int64_t i = 0; i < blocks; ++i, g += kQ4_0x8BlockBytes) {
            // Run c holds dword c of every row's codes (row k in dword k): a transpose of
            // 4 x 8 dwords gives rows k and k + 4 in the halves of register k.
            const __m256i r0 = load32(g + 16), r1 = load32(g + 48), r2 = load32(g + 80),
                          r3 = load32(g + 112);
            const __m256i t0 = _mm256_unpacklo_epi32(r0, r1), t1 = _mm256_unpackhi_epi32(r0, r1);
            const __m256i t2 = _mm256_unpacklo_epi32(r2, r3), t3 = _mm256_unpackhi_epi32(r2, r3);
            const __m256i rows[4] = {_mm256_unpacklo_epi64(t0, t2), _mm256_unpackhi_epi64(t0, t2),
                                     _mm256_unpacklo_epi64(t1, t3), _mm256_unpackhi_epi64(t1, t3)};
            std::byte* b = out + static_cast<std::size_t>(i) * sizeof(BlockQ4_0);
            for (int k = 0; k < 4; ++k) {
                std::memcpy(b + k * rowBytes, g + 2 * k, 2);
                std::memcpy(b + (k + 4) * rowBytes, g + 2 * (k + 4), 2);
                _mm_storeu_si128(reinterpret_cast<__m128i*>(b + k * rowBytes + 2),
                                 _mm256_castsi256_si128(rows[k]));
                _mm_storeu_si128(reinterpret_cast<__m128i*>(b + (k + 4) * rowBytes + 2),
                                 _mm256_extracti128_si256(rows[k], 1));
            }
        }
}

}  // namespace cwb::quant::detail
