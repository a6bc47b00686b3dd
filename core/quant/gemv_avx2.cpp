// Generation's matrix-vector products, AVX2 (see gemv_kernels.h). Up to four rows per pass:
// the activation block is loaded and its scale converted once for all of them, and each row
// keeps its own float accumulator, so four independent chains hide the latency of the
// multiply-adds.
//   Q4_0: the unsigned codes 0..15 go straight into maddubs against the signed activations;
//     the offset 8 is taken off once per block as 8 x (the activations' pair sums), shared by
//     the rows, instead of re-signing every code.
//   Q4_K: the 6-bit scales and minimums of a super-block are unpacked from 32-bit words,
//     each group's scale spread into int16 lanes by a byte shuffle, and the minimums meet
//     the activations' sums of 32 (shared by the rows) in one madd.
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

template <typename Block>
const Block* blockRow(const std::byte* w, std::size_t stride, std::int64_t r) {
    return reinterpret_cast<const Block*>(w + static_cast<std::size_t>(r) * stride);
}

// A pass over R rows reads R short runs side by side (a row of 2048 values is 18 lines of
// Q4_0), too short for the hardware prefetchers to lock on before each ends; so each pass asks
// for the same blocks of the next pass's rows, which lie right after its own.
template <typename Block>
CWB_QUANT_AVX2 inline void prefetchNextPass(const Block* const* x, std::int64_t i, int rows,
                                            std::size_t passBytes) {
    for (int r = 0; r < rows; ++r) {
        const char* next = reinterpret_cast<const char*>(x[r] + i) + passBytes;
        for (std::size_t line = 0; line < (sizeof(Block) + 63) / 64; ++line)
            _mm_prefetch(next + 64 * line, _MM_HINT_T0);
    }
}

template <int R>
CWB_QUANT_AVX2 void gemvQ4_0(const std::byte* w, std::size_t stride, std::int64_t r0,
                             const std::byte* act, std::int64_t n, float* y) {
    const BlockQ4_0* x[R];
    for (int r = 0; r < R; ++r) x[r] = blockRow<BlockQ4_0>(w, stride, r0 + r);
    const auto* a = reinterpret_cast<const BlockQ8_0*>(act);
    const __m256i ones = _mm256_set1_epi16(1), eight = _mm256_set1_epi8(8);
    const __m256i low = _mm256_set1_epi8(0x0f);
    __m256 acc[R];
    for (int r = 0; r < R; ++r) acc[r] = _mm256_setzero_ps();
    for (std::int64_t i = 0; i < n / kQK; ++i) {
        const __m256i ya = load32(a[i].qs);
        const float dy = h2f(a[i].d);
        const __m256i offset = _mm256_madd_epi16(_mm256_maddubs_epi16(eight, ya), ones);
        prefetchNextPass(x, i, R, R * stride);
        for (int r = 0; r < R; ++r) {
            const __m128i raw = _mm_loadu_si128(reinterpret_cast<const __m128i*>(x[r][i].qs));
            const __m256i u = _mm256_and_si256(_mm256_set_m128i(_mm_srli_epi16(raw, 4), raw), low);
            const __m256i s =
                _mm256_sub_epi32(_mm256_madd_epi16(_mm256_maddubs_epi16(u, ya), ones), offset);
            acc[r] =
                _mm256_fmadd_ps(_mm256_set1_ps(h2f(x[r][i].d) * dy), _mm256_cvtepi32_ps(s), acc[r]);
        }
    }
    for (int r = 0; r < R; ++r) y[r] = hsum(acc[r]);
}

template <int R>
CWB_QUANT_AVX2 void gemvQ8_0(const std::byte* w, std::size_t stride, std::int64_t r0,
                             const std::byte* act, std::int64_t n, float* y) {
    const BlockQ8_0* x[R];
    for (int r = 0; r < R; ++r) x[r] = blockRow<BlockQ8_0>(w, stride, r0 + r);
    const auto* a = reinterpret_cast<const BlockQ8_0*>(act);
    const __m256i ones = _mm256_set1_epi16(1);
    __m256 acc[R];
    for (int r = 0; r < R; ++r) acc[r] = _mm256_setzero_ps();
    for (std::int64_t i = 0; i < n / kQK; ++i) {
        const __m256i ya = load32(a[i].qs);
        const float dy = h2f(a[i].d);
        prefetchNextPass(x, i, R, R * stride);
        for (int r = 0; r < R; ++r) {
            const __m256i q = load32(x[r][i].qs);
            const __m256i s = _mm256_madd_epi16(
                _mm256_maddubs_epi16(_mm256_sign_epi8(q, q), _mm256_sign_epi8(ya, q)), ones);
            acc[r] =
                _mm256_fmadd_ps(_mm256_set1_ps(h2f(x[r][i].d) * dy), _mm256_cvtepi32_ps(s), acc[r]);
        }
    }
    for (int r = 0; r < R; ++r) y[r] = hsum(acc[r]);
}

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

template <int R>
CWB_QUANT_AVX2 void gemvQ4_K(const std::byte* w, std::size_t stride, std::int64_t r0,
                             const std::byte* act, std::int64_t n, float* y) {
    const BlockQ4_K* x[R];
    for (int r = 0; r < R; ++r) x[r] = blockRow<BlockQ4_K>(w, stride, r0 + r);
    const auto* a = reinterpret_cast<const BlockQ8_K*>(act);
    const __m256i low = _mm256_set1_epi8(0x0f);
    __m256 acc[R];
    __m128 minAcc[R];
    for (int r = 0; r < R; ++r) {
        acc[r] = _mm256_setzero_ps();
        minAcc[r] = _mm_setzero_ps();
    }
    for (std::int64_t i = 0; i < n / kQKK; ++i) {
        // The activations' sums of each group of 32, from Q8_K's sums of 16.
        const __m256i bsums =
            load32(reinterpret_cast<const std::byte*>(&a[i]) + offsetof(BlockQ8_K, bsums));
        const __m256i pairs = _mm256_madd_epi16(bsums, _mm256_set1_epi16(1));  // 8 x int32
        const __m128i groupSums =
            _mm_packs_epi32(_mm256_castsi256_si128(pairs), _mm256_extracti128_si256(pairs, 1));
        const float dy = a[i].d;
        prefetchNextPass(x, i, R, R * stride);
        __m256i ya[8];
        for (int g = 0; g < 8; ++g) ya[g] = load32(a[i].qs + 32 * g);
        for (int r = 0; r < R; ++r) {
            const BlockQ4_K& b = x[r][i];
            std::uint64_t scales, mins;
            scalesMinsK4(b.scales, scales, mins);
            const __m128i sc16 =
                _mm_cvtepu8_epi16(_mm_cvtsi64_si128(static_cast<long long>(scales)));
            const __m256i sc = _mm256_set_m128i(sc16, sc16);
            const __m128i m16 = _mm_cvtepu8_epi16(_mm_cvtsi64_si128(static_cast<long long>(mins)));
            __m256i sum = _mm256_setzero_si256();
            for (int c = 0; c < 4; ++c) {
                const __m256i q = load32(b.qs + 32 * c);
                const __m256i lo = _mm256_and_si256(q, low);
                const __m256i hi = _mm256_and_si256(_mm256_srli_epi16(q, 4), low);
                sum = _mm256_add_epi32(
                    sum, _mm256_madd_epi16(_mm256_maddubs_epi16(lo, ya[2 * c]),
                                           _mm256_shuffle_epi8(sc, load32(kSpread.bytes[2 * c]))));
                sum = _mm256_add_epi32(
                    sum,
                    _mm256_madd_epi16(_mm256_maddubs_epi16(hi, ya[2 * c + 1]),
                                      _mm256_shuffle_epi8(sc, load32(kSpread.bytes[2 * c + 1]))));
            }
            acc[r] =
                _mm256_fmadd_ps(_mm256_set1_ps(dy * h2f(b.d)), _mm256_cvtepi32_ps(sum), acc[r]);
            minAcc[r] = _mm_fmadd_ps(_mm_set1_ps(dy * h2f(b.dmin)),
                                     _mm_cvtepi32_ps(_mm_madd_epi16(m16, groupSums)), minAcc[r]);
        }
    }
    for (int r = 0; r < R; ++r) {
        __m128 m = _mm_add_ps(minAcc[r], _mm_movehl_ps(minAcc[r], minAcc[r]));
        m = _mm_add_ss(m, _mm_movehdup_ps(m));
        y[r] = hsum(acc[r]) - _mm_cvtss_f32(m);
    }
}

using GemvFn = void (*)(const std::byte*, std::size_t, std::int64_t, const std::byte*, std::int64_t,
                        float*);

#define CWB_GEMV_FAMILY(NAME) \
    constexpr GemvFn NAME##Fns[kRowsPerPass] = {NAME<1>, NAME<2>, NAME<3>, NAME<4>};

CWB_GEMV_FAMILY(gemvQ4_0)
CWB_GEMV_FAMILY(gemvQ8_0)
CWB_GEMV_FAMILY(gemvQ4_K)
#undef CWB_GEMV_FAMILY

const GemvFn* familyOf(DType type) {
    switch (type) {
        case DType::Q4_0:
            return gemvQ4_0Fns;
        case DType::Q8_0:
            return gemvQ8_0Fns;
        case DType::Q4_K:
            return gemvQ4_KFns;
        default:
            return nullptr;
    }
}

}  // namespace

// vecDot's AVX2 kernels for these formats are the one-row passes, so that a token's products
// are the same numbers whether they come through vecDot or matmulPacked.
CWB_QUANT_AVX2 float dotQ4_0Avx2(const std::byte* w, const std::byte* a, std::int64_t n) {
    float y;
    gemvQ4_0<1>(w, 0, 0, a, n, &y);
    return y;
}
CWB_QUANT_AVX2 float dotQ8_0Avx2(const std::byte* w, const std::byte* a, std::int64_t n) {
    float y;
    gemvQ8_0<1>(w, 0, 0, a, n, &y);
    return y;
}
CWB_QUANT_AVX2 float dotQ4_KAvx2(const std::byte* w, const std::byte* a, std::int64_t n) {
    float y;
    gemvQ4_K<1>(w, 0, 0, a, n, &y);
    return y;
}

bool hasGemvAvx2(DType type) { return familyOf(type) != nullptr; }

void gemvAvx2(DType type, const std::byte* w, std::size_t stride, std::int64_t rowBegin,
              std::int64_t rowEnd, const std::byte* activations, std::int64_t n, float* y) {
    const GemvFn* fns = familyOf(type);
    for (std::int64_t r = rowBegin; r < rowEnd; r += kRowsPerPass) {
        const int count = static_cast<int>(std::min<std::int64_t>(kRowsPerPass, rowEnd - r));
        fns[count - 1](w, stride, r, activations, n, y + (r - rowBegin));
    }
}

}  // namespace cwb::quant::detail
