// Generation's Q4_0 product over rows interleaved by eight (see interleaveRows in
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

// The eight rows of the group at g against the blocks of activations `a` with their scales and
// offsets.
CWB_QUANT_AVX2 void groupQ4_0x8(const std::uint8_t* g, const BlockQ8_0* a, const float* dy,
                                const std::int32_t* offsets, std::int64_t blocks, float* y) {
    const __m256i low = _mm256_set1_epi8(0x0f), ones = _mm256_set1_epi16(1);
    __m256 acc = _mm256_setzero_ps();
    for (std::int64_t i = 0; i < blocks; ++i, g += kQ4_0x8BlockBytes) {
        prefetchStream(g, kQ4_0x8BlockBytes);
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

}  // namespace cwb::quant::detail
