// Generation's matrix-vector products, AVX2 (see gemv_kernels.h). One pass (gemvPass)
// multiplies up to four weight rows with one activation row, whatever the format; a format is
// a traits struct F giving
//   Block, ActBlock, kValues   its weight and activation blocks and the values in one
//   kStep                      blocks per step
//   Shared prepare(a)          a step's activation blocks readied once for every row of the
//                              pass (loads, scales, sums)
//   Acc, zero(), step(acc, b, shared), finish(acc)
//                              a row's own accumulator (four independent chains hide the
//                              latency of the multiply-adds), the step's blocks b of the row
//                              added into it, and the row's value from it.
//   Q4_0, Q8_0: a step is a pair of blocks, the first block's integer sums in the low
//     128-bit half of a register and the second's in the high half, so the pair takes one
//     conversion, one fp16 scale conversion and one multiply-add; Q4_0's unsigned codes go
//     straight into maddubs, the offset 8 taken off once per pair as 8 x (the activations'
//     sums), shared by the rows.
//   Q4_K: a step is a super-block; its 6-bit scales and minimums are unpacked from 32-bit
//     words, each group's scale spread into int16 lanes by a byte shuffle, and the minimums
//     meet the activations' sums of 32 (shared by the rows) in one madd.
// A row's value comes from the same operations in the same order whichever rows share its
// pass, so the result does not depend on how rows are split between threads.
#include <algorithm>
#include <cstddef>
#include <cstring>

#include "core/quant/avx2_blocks.h"
#include "core/quant/block_layouts.h"
#include "core/quant/gemv_kernels.h"
#include "core/quant/kernels.h"

namespace cwb::quant::detail {
namespace {

using namespace avx2;

constexpr int kRowsPerPass = 4;

// [h0 four times | h1 four times] as floats: two fp16 scales, one per 128-bit half.
CWB_QUANT_AVX2 inline __m256 pairScales(std::uint16_t h0, std::uint16_t h1) {
    const __m128i both = _mm_cvtsi32_si128(static_cast<int>(h0 | (std::uint32_t(h1) << 16)));
    return _mm256_cvtph_ps(
        _mm_shuffle_epi8(both, _mm_setr_epi8(0, 1, 0, 1, 0, 1, 0, 1, 2, 3, 2, 3, 2, 3, 2, 3)));
}

CWB_QUANT_AVX2 inline __m256i load2x16(const std::uint8_t* low, const std::uint8_t* high) {
    return _mm256_inserti128_si256(
        _mm256_castsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(low))),
        _mm_loadu_si128(reinterpret_cast<const __m128i*>(high)), 1);
}

struct GemvQ4_0 {
    using Block = BlockQ4_0;
    using ActBlock = BlockQ8_0;
    static constexpr int kValues = kQK, kStep = 2;
    struct Shared {
        __m256i low, high;  // activations 0-15 and 16-31 of each block, block 0 in the low half
        __m256i offset;     // 8 x their sums, as the rows' int32 lanes take them
        __m256 dy;
    };
    using Acc = __m256;
    CWB_QUANT_AVX2 static Acc zero() { return _mm256_setzero_ps(); }
    CWB_QUANT_AVX2 static Shared prepare(const ActBlock* a) {
        Shared s;
        const __m256i a0 = load32(a[0].qs), a1 = load32(a[1].qs);
        s.low = _mm256_permute2x128_si256(a0, a1, 0x20);
        s.high = _mm256_permute2x128_si256(a0, a1, 0x31);
        const __m256i eight = _mm256_set1_epi8(8);
        s.offset = _mm256_madd_epi16(_mm256_add_epi16(_mm256_maddubs_epi16(eight, s.low),
                                                      _mm256_maddubs_epi16(eight, s.high)),
                                     _mm256_set1_epi16(1));
        s.dy = pairScales(a[0].d, a[1].d);
        return s;
    }
    CWB_QUANT_AVX2 static void step(Acc& acc, const Block* b, const Shared& s) {
        const __m256i low = _mm256_set1_epi8(0x0f);
        const __m256i q = load2x16(b[0].qs, b[1].qs);
        const __m256i lo = _mm256_and_si256(q, low);
        const __m256i hi = _mm256_and_si256(_mm256_srli_epi16(q, 4), low);
        // Pair sums of 15 x 127 at most: two of them still fit int16.
        const __m256i pairs =
            _mm256_add_epi16(_mm256_maddubs_epi16(lo, s.low), _mm256_maddubs_epi16(hi, s.high));
        const __m256i sums =
            _mm256_sub_epi32(_mm256_madd_epi16(pairs, _mm256_set1_epi16(1)), s.offset);
        acc = _mm256_fmadd_ps(_mm256_mul_ps(pairScales(b[0].d, b[1].d), s.dy),
                              _mm256_cvtepi32_ps(sums), acc);
    }
    CWB_QUANT_AVX2 static float finish(const Acc& acc) { return hsum(acc); }
};

struct GemvQ8_0 {
    using Block = BlockQ8_0;
    using ActBlock = BlockQ8_0;
    static constexpr int kValues = kQK, kStep = 2;
    struct Shared {
        __m256i a0, a1;
        __m256 dy;
    };
    using Acc = __m256;
    CWB_QUANT_AVX2 static Acc zero() { return _mm256_setzero_ps(); }
    CWB_QUANT_AVX2 static Shared prepare(const ActBlock* a) {
        return {load32(a[0].qs), load32(a[1].qs), pairScales(a[0].d, a[1].d)};
    }
    // The sign trick: |w| (unsigned, exact for -128 too) against a carrying w's sign.
    CWB_QUANT_AVX2 static __m256i blockSums(__m256i w, __m256i a) {
        return _mm256_madd_epi16(
            _mm256_maddubs_epi16(_mm256_sign_epi8(w, w), _mm256_sign_epi8(a, w)),
            _mm256_set1_epi16(1));
    }
    CWB_QUANT_AVX2 static void step(Acc& acc, const Block* b, const Shared& s) {
        const __m256i s0 = blockSums(load32(b[0].qs), s.a0);
        const __m256i s1 = blockSums(load32(b[1].qs), s.a1);
        // Block 0's halves added in the low half, block 1's in the high half.
        const __m256i sums = _mm256_add_epi32(_mm256_blend_epi32(s0, s1, 0xf0),
                                              _mm256_permute2x128_si256(s0, s1, 0x21));
        acc = _mm256_fmadd_ps(_mm256_mul_ps(pairScales(b[0].d, b[1].d), s.dy),
                              _mm256_cvtepi32_ps(sums), acc);
    }
    CWB_QUANT_AVX2 static float finish(const Acc& acc) { return hsum(acc); }
};

// Byte masks that spread int16 scale g (of 8, in both 128-bit lanes) over every int16 lane.
struct SpreadMasks {
    alignas(32) std::uint8_t bytes[8][32];
    constexpr SpreadMasks() : bytes() {
        for (int g = 0; g < 8; ++g)
            for (int i = 0; i < 32; ++i) bytes[g][i] = static_cast<std::uint8_t>(2 * g + i % 2);
    }
};
constexpr SpreadMasks kSpread;

// The 8 scales and 8 minimums of a Q4_K/Q5_K super-block (6 bits each) from its 12 bytes:
// scale j < 4 is the low 6 bits of byte j, minimum j < 4 of byte j + 4; for j >= 4 the
// nibbles of byte j + 4 give the low 4 bits and bits 6-7 of bytes j - 4 (scale) and j
// (minimum) the top 2.
inline void scalesMinsK4(const std::uint8_t* packed, std::uint64_t& scales, std::uint64_t& mins) {
    std::uint32_t u0, u1, u2;
    std::memcpy(&u0, packed, 4);
    std::memcpy(&u1, packed + 4, 4);
    std::memcpy(&u2, packed + 8, 4);
    const std::uint32_t s0 = u0 & 0x3f3f3f3fu, m0 = u1 & 0x3f3f3f3fu;
    const std::uint32_t s1 = (u2 & 0x0f0f0f0fu) | (((u0 >> 6) & 0x03030303u) << 4);
    const std::uint32_t m1 = ((u2 >> 4) & 0x0f0f0f0fu) | (((u1 >> 6) & 0x03030303u) << 4);
    scales = s0 | (std::uint64_t(s1) << 32);
    mins = m0 | (std::uint64_t(m1) << 32);
}

struct GemvQ4_K {
    using Block = BlockQ4_K;
    using ActBlock = BlockQ8_K;
    static constexpr int kValues = kQKK, kStep = 1;
    struct Shared {
        const std::int8_t* qs;
        __m128i groupSums;  // the activations' sums of each group of 32, int16
        __m128 dy;
    };
    struct Acc {
        __m256 main;
        __m128 mins;
    };
    CWB_QUANT_AVX2 static Acc zero() { return {_mm256_setzero_ps(), _mm_setzero_ps()}; }
    CWB_QUANT_AVX2 static Shared prepare(const ActBlock* a) {
        // From Q8_K's sums of 16.
        const __m256i bsums =
            load32(reinterpret_cast<const std::byte*>(a) + offsetof(BlockQ8_K, bsums));
        const __m256i pairs = _mm256_madd_epi16(bsums, _mm256_set1_epi16(1));  // 8 x int32
        return {a->qs,
                _mm_packs_epi32(_mm256_castsi256_si128(pairs), _mm256_extracti128_si256(pairs, 1)),
                _mm_set1_ps(a->d)};
    }
    CWB_QUANT_AVX2 static void step(Acc& acc, const Block* b, const Shared& s) {
        std::uint64_t scales, mins;
        scalesMinsK4(b->scales, scales, mins);
        const __m128i sc16 = _mm_cvtepu8_epi16(_mm_cvtsi64_si128(static_cast<long long>(scales)));
        const __m256i sc = _mm256_set_m128i(sc16, sc16);
        const __m128i m16 = _mm_cvtepu8_epi16(_mm_cvtsi64_si128(static_cast<long long>(mins)));
        const __m256i low = _mm256_set1_epi8(0x0f);
        __m256i sum = _mm256_setzero_si256();
        for (int c = 0; c < 4; ++c) {
            const __m256i q = load32(b->qs + 32 * c);
            const __m256i lo = _mm256_and_si256(q, low);
            const __m256i hi = _mm256_and_si256(_mm256_srli_epi16(q, 4), low);
            sum = _mm256_add_epi32(
                sum, _mm256_madd_epi16(_mm256_maddubs_epi16(lo, load32(s.qs + 64 * c)),
                                       _mm256_shuffle_epi8(sc, load32(kSpread.bytes[2 * c]))));
            sum = _mm256_add_epi32(
                sum, _mm256_madd_epi16(_mm256_maddubs_epi16(hi, load32(s.qs + 64 * c + 32)),
                                       _mm256_shuffle_epi8(sc, load32(kSpread.bytes[2 * c + 1]))));
        }
        // d and dmin side by side, converted and scaled together.
        std::uint32_t dm;
        std::memcpy(&dm, b, 4);
        const __m128 scale =
            _mm_mul_ps(_mm_cvtph_ps(_mm_cvtsi32_si128(static_cast<int>(dm))), s.dy);
        acc.main = _mm256_fmadd_ps(_mm256_broadcastss_ps(scale), _mm256_cvtepi32_ps(sum), acc.main);
        acc.mins = _mm_fmadd_ps(_mm_permute_ps(scale, 0x55),
                                _mm_cvtepi32_ps(_mm_madd_epi16(m16, s.groupSums)), acc.mins);
    }
    CWB_QUANT_AVX2 static float finish(const Acc& acc) {
        __m128 m = _mm_add_ps(acc.mins, _mm_movehl_ps(acc.mins, acc.mins));
        m = _mm_add_ss(m, _mm_movehdup_ps(m));
        return hsum(acc.main) - _mm_cvtss_f32(m);
    }
};

// A pass over R rows reads R short runs side by side (a row of 2048 values is 18 lines of
// Q4_0), too short for the hardware prefetchers to lock on before each ends, and the rows of a
// mapped file sit on 4 KB pages, where those stop; so each step asks for the same bytes of the
// rows one pass on (two passes on measured 10-20 % slower on a Xeon VM: the lines came too
// early). A step's bytes start within every line they cover (steps are at most 3 lines,
// consecutive steps back to back), so asking for the line of each 64 bytes from the step's
// start misses none.
constexpr int kPrefetchPasses = 1;
template <typename F, int R>
CWB_QUANT_AVX2 inline void prefetchAhead(const typename F::Block* const* x, std::int64_t i,
                                         std::size_t distance) {
    constexpr std::size_t kLines = (F::kStep * sizeof(typename F::Block) + 63) / 64;
    for (int r = 0; r < R; ++r) {
        const char* next = reinterpret_cast<const char*>(x[r] + i) + distance;
        for (std::size_t line = 0; line < kLines; ++line)
            _mm_prefetch(next + 64 * line, _MM_HINT_T0);
    }
}

template <typename F, int R>
CWB_QUANT_AVX2 void gemvPass(const std::byte* w, std::size_t stride, std::int64_t r0,
                             const std::byte* act, std::int64_t n, float* y) {
    using Block = typename F::Block;
    using ActBlock = typename F::ActBlock;
    const Block* x[R];
    for (int r = 0; r < R; ++r)
        x[r] = reinterpret_cast<const Block*>(w + static_cast<std::size_t>(r0 + r) * stride);
    const auto* a = reinterpret_cast<const ActBlock*>(act);
    typename F::Acc acc[R];
    for (int r = 0; r < R; ++r) acc[r] = F::zero();
    const std::int64_t blocks = n / F::kValues;
    std::int64_t i = 0;
    for (; i + F::kStep <= blocks; i += F::kStep) {
        const typename F::Shared s = F::prepare(a + i);
        prefetchAhead<F, R>(x, i, kPrefetchPasses * R * stride);
        for (int r = 0; r < R; ++r) F::step(acc[r], x[r] + i, s);
    }
    if (i < blocks) {
        // The last blocks of a row shorter than a step, padded with zero blocks: they add
        // nothing (zero codes and scales).
        ActBlock aTail[F::kStep] = {};
        Block xTail[F::kStep] = {};
        std::memcpy(aTail, a + i, static_cast<std::size_t>(blocks - i) * sizeof(ActBlock));
        const typename F::Shared s = F::prepare(aTail);
        for (int r = 0; r < R; ++r) {
            std::memcpy(xTail, x[r] + i, static_cast<std::size_t>(blocks - i) * sizeof(Block));
            F::step(acc[r], xTail, s);
        }
    }
    for (int r = 0; r < R; ++r) y[r] = F::finish(acc[r]);
}

using GemvFn = void (*)(const std::byte*, std::size_t, std::int64_t, const std::byte*, std::int64_t,
                        float*);

// The passes of a format for 1 to kRowsPerPass rows.
template <typename F>
constexpr GemvFn kPasses[kRowsPerPass] = {gemvPass<F, 1>, gemvPass<F, 2>, gemvPass<F, 3>,
                                          gemvPass<F, 4>};

const GemvFn* passesOf(DType type) {
    switch (type) {
        case DType::Q4_0:
            return kPasses<GemvQ4_0>;
        case DType::Q8_0:
            return kPasses<GemvQ8_0>;
        case DType::Q4_K:
            return kPasses<GemvQ4_K>;
        default:
            return nullptr;
    }
}

template <typename F>
CWB_QUANT_AVX2 float dotOneRow(const std::byte* w, const std::byte* a, std::int64_t n) {
    float y;
    gemvPass<F, 1>(w, 0, 0, a, n, &y);
    return y;
}

}  // namespace

// vecDot's AVX2 kernels for these formats are the one-row passes, so that a token's products
// are the same numbers whether they come through vecDot or matmulPacked.
float dotQ4_0Avx2(const std::byte* w, const std::byte* a, std::int64_t n) {
    return dotOneRow<GemvQ4_0>(w, a, n);
}
float dotQ8_0Avx2(const std::byte* w, const std::byte* a, std::int64_t n) {
    return dotOneRow<GemvQ8_0>(w, a, n);
}
float dotQ4_KAvx2(const std::byte* w, const std::byte* a, std::int64_t n) {
    return dotOneRow<GemvQ4_K>(w, a, n);
}

bool hasGemvAvx2(DType type) { return passesOf(type) != nullptr; }

void gemvAvx2(DType type, const std::byte* w, std::size_t stride, std::int64_t rowBegin,
              std::int64_t rowEnd, const std::byte* activations, std::int64_t n, float* y) {
    const GemvFn* passes = passesOf(type);
    for (std::int64_t r = rowBegin; r < rowEnd; r += kRowsPerPass) {
        const int count = static_cast<int>(std::min<std::int64_t>(kRowsPerPass, rowEnd - r));
        passes[count - 1](w, stride, r, activations, n, y + (r - rowBegin));
    }
}

}  // namespace cwb::quant::detail
