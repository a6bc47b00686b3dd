// Generation's Q4_K product over rows interleaved by eight (see interleaveRows in
// quant_rows.h), AVX2. A group's super-block i is the eight rows' d, then their dmin, then
// three runs holding the eight rows' 12 scale bytes a dword at a time, then 32 runs of codes,
// run 8c + p holding bytes 32c + 4p .. + 3 of each row's codes (row k at 4k). So:
//   - the 6-bit scales and minimums of all eight rows unpack with the word operations one
//     row's take, one row per 32-bit lane;
//   - one broadcast of four activations meets four codes of all eight rows in one maddubs;
//     eight of them (a sub-block of 32) add up in int16 and one madd with each row's scale
//     turns them into int32, a row per lane: no horizontal sums;
//   - the minimums meet the activations' sums of 32 (shared by every group) two at a time
//     in one madd.
// A super-block's integer sums are exact; each row takes d x dy and dmin x dy once per
// super-block.
#include <cstddef>
#include <cstring>
#include <vector>

#include "core/quant/avx2_blocks.h"
#include "core/quant/block_layouts.h"
#include "core/quant/gemv_kernels.h"

namespace cwb::quant::detail {
namespace {

using namespace avx2;

// Byte shuffles within each 32-bit lane of rows' scale or minimum bytes: scale[s] puts byte s
// in both int16 halves; minPair[s] puts bytes 2s and 2s + 1 in the low and high half.
struct LaneMasks {
    alignas(32) std::uint8_t scale[4][32];
    alignas(32) std::uint8_t minPair[2][32];
    constexpr LaneMasks() : scale(), minPair() {
        for (int i = 0; i < 32; ++i) {
            const int lane = (i % 16) / 4, b = i % 4;
            for (int s = 0; s < 4; ++s)
                scale[s][i] = static_cast<std::uint8_t>(b % 2 ? 0x80 : 4 * lane + s);
            for (int s = 0; s < 2; ++s)
                minPair[s][i] = static_cast<std::uint8_t>(b % 2 ? 0x80 : 4 * lane + 2 * s + b / 2);
        }
    }
};
constexpr LaneMasks kMasks;

CWB_QUANT_AVX2 inline __m256i spread(__m256i bytes, const std::uint8_t* mask) {
    return _mm256_shuffle_epi8(bytes, load32(mask));
}

// The eight rows of the group at g against the super-blocks `a`; minPairs[4 i + q] holds
// the activations' sums of sub-blocks 2q and 2q + 1 of super-block i as two int16.
CWB_QUANT_AVX2 void groupQ4_Kx8(const std::uint8_t* g, const BlockQ8_K* a,
                                const std::int32_t* minPairs, std::int64_t blocks, float* y) {
    const __m256i low = _mm256_set1_epi8(0x0f), six = _mm256_set1_epi32(0x3f3f3f3f);
    const __m256i four = _mm256_set1_epi32(0x0f0f0f0f), two = _mm256_set1_epi32(0x03030303);
    __m256 acc = _mm256_setzero_ps(), accMins = _mm256_setzero_ps();
    for (std::int64_t i = 0; i < blocks; ++i, g += kQ4_Kx8BlockBytes) {
        prefetchStream(g, kQ4_Kx8BlockBytes);
        // scalesMinsK4's word operations, a row per lane: scales 0-3 and 4-7, minimums 0-3
        // and 4-7, a byte each.
        const __m256i u0 = load32(g + 32), u1 = load32(g + 64), u2 = load32(g + 96);
        const __m256i top0 = _mm256_slli_epi32(_mm256_and_si256(_mm256_srli_epi32(u0, 6), two), 4);
        const __m256i top1 = _mm256_slli_epi32(_mm256_and_si256(_mm256_srli_epi32(u1, 6), two), 4);
        const __m256i scales[2] = {_mm256_and_si256(u0, six),
                                   _mm256_or_si256(_mm256_and_si256(u2, four), top0)};
        const __m256i mins[2] = {
            _mm256_and_si256(u1, six),
            _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi32(u2, 4), four), top1)};
        const std::int8_t* qa = a[i].qs;
        __m256i sums = _mm256_setzero_si256();
        for (int c = 0; c < 4; ++c) {
            const std::uint8_t* q = g + 128 + 256 * c;
            __m256i lo = _mm256_setzero_si256(), hi = _mm256_setzero_si256();
            for (int p = 0; p < 8; ++p) {
                const __m256i v = load32(q + 32 * p);
                // Pair sums of 15 x 128 at most: eight of them still fit int16.
                lo = _mm256_add_epi16(lo, _mm256_maddubs_epi16(_mm256_and_si256(v, low),
                                                               broadcast4(qa + 64 * c + 4 * p)));
                hi = _mm256_add_epi16(
                    hi, _mm256_maddubs_epi16(_mm256_and_si256(_mm256_srli_epi16(v, 4), low),
                                             broadcast4(qa + 64 * c + 32 + 4 * p)));
            }
            // Sub-blocks 2c (low nibbles) and 2c + 1 (high) times their scales.
            const __m256i sc = scales[c / 2];
            sums = _mm256_add_epi32(sums,
                                    _mm256_madd_epi16(lo, spread(sc, kMasks.scale[(2 * c) % 4])));
            sums = _mm256_add_epi32(
                sums, _mm256_madd_epi16(hi, spread(sc, kMasks.scale[(2 * c + 1) % 4])));
        }
        __m256i m = _mm256_setzero_si256();
        for (int q = 0; q < 4; ++q)
            m = _mm256_add_epi32(m, _mm256_madd_epi16(spread(mins[q / 2], kMasks.minPair[q % 2]),
                                                      _mm256_set1_epi32(minPairs[4 * i + q])));
        const __m256 dy = _mm256_set1_ps(a[i].d);
        const __m256 d = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(g)));
        const __m256 dmin =
            _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(g + 16)));
        acc = _mm256_fmadd_ps(_mm256_mul_ps(d, dy), _mm256_cvtepi32_ps(sums), acc);
        accMins = _mm256_fmadd_ps(_mm256_mul_ps(dmin, dy), _mm256_cvtepi32_ps(m), accMins);
    }
    _mm256_storeu_ps(y, _mm256_sub_ps(acc, accMins));
}

}  // namespace

CWB_QUANT_AVX2 void gemvQ4_Kx8Avx2(const std::byte* w, std::int64_t firstGroup, std::int64_t groups,
                                   const std::byte* activations, std::int64_t n, float* y) {
    const std::int64_t blocks = n / kQKK;
    const auto* a = reinterpret_cast<const BlockQ8_K*>(activations);
    // Kept from call to call: the activations' sums of 32, shared by the groups.
    thread_local std::vector<std::int32_t> minPairs;
    minPairs.resize(static_cast<std::size_t>(4 * blocks));
    for (std::int64_t i = 0; i < blocks; ++i)
        for (int q = 0; q < 4; ++q) {
            std::int16_t s[4];  // sums of 16 (the field is not aligned)
            std::memcpy(
                s, reinterpret_cast<const std::byte*>(a + i) + offsetof(BlockQ8_K, bsums) + 8 * q,
                sizeof s);
            const auto first = static_cast<std::uint16_t>(s[0] + s[1]);
            const auto second = static_cast<std::uint16_t>(s[2] + s[3]);
            minPairs[static_cast<std::size_t>(4 * i + q)] =
                static_cast<std::int32_t>(first | (std::uint32_t(second) << 16));
        }
    const std::size_t groupBytes = static_cast<std::size_t>(blocks) * kQ4_Kx8BlockBytes;
    for (std::int64_t g = 0; g < groups; ++g)
        groupQ4_Kx8(reinterpret_cast<const std::uint8_t*>(w) +
                        static_cast<std::size_t>(firstGroup + g) * groupBytes,
                    a, minPairs.data(), blocks, y + 8 * g);
}

}  // namespace cwb::quant::detail
