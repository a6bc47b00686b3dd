// AVX2 kernels: dot products of packed weight blocks with Q8 activation blocks through
// _mm256_maddubs_epi16 (u8 x s8 pairs) and _mm256_madd_epi16, and the activation quantizers.
// Integer sums per block are exact; only the float accumulation order differs from the
// reference. Activation codes lie in [-127, 127] (the quantizers never write -128), which
// the sign trick of the signed products needs.
#include <cstddef>

#include "core/quant/block_layouts.h"
#include "core/quant/fp16.h"
#include "core/quant/k_scales.h"
#include "core/quant/kernels.h"
#include "core/quant/simd_target.h"

namespace cwb::quant::detail {
namespace {

template <typename Block>
const Block* blocksOf(const std::byte* p) {
    return reinterpret_cast<const Block*>(p);
}

CWB_QUANT_AVX2 inline float h2f(std::uint16_t h) { return _cvtsh_ss(h); }

CWB_QUANT_AVX2 inline float hsum(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

CWB_QUANT_AVX2 inline int hsumInt(__m256i v) {
    __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    s = _mm_add_epi32(s, _mm_unpackhi_epi64(s, s));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 1));
    return _mm_cvtsi128_si32(s);
}

CWB_QUANT_AVX2 inline __m256i load32(const void* p) {
    return _mm256_loadu_si256(static_cast<const __m256i*>(p));
}

// 16 bytes of nibbles as 32 codes 0..15: the low nibbles (values 0-15), then the high ones.
CWB_QUANT_AVX2 inline __m256i nibbles(const std::uint8_t* qs) {
    const __m128i raw = _mm_loadu_si128(reinterpret_cast<const __m128i*>(qs));
    return _mm256_and_si256(_mm256_set_m128i(_mm_srli_epi16(raw, 4), raw), _mm256_set1_epi8(0x0f));
}

// Byte k is 0x10 where bit k of the 32 bits is set: the fifth bit of the Q5 formats.
CWB_QUANT_AVX2 inline __m256i fifthBits(const std::uint8_t* qh) {
    std::uint32_t bits;
    std::memcpy(&bits, qh, 4);
    const __m256i spread = _mm256_shuffle_epi8(
        _mm256_set1_epi32(static_cast<int>(bits)),
        _mm256_set_epi64x(0x0303030303030303, 0x0202020202020202, 0x0101010101010101, 0));
    const __m256i bit = _mm256_set1_epi64x(static_cast<long long>(0x8040201008040201ull));
    const __m256i set = _mm256_cmpeq_epi8(_mm256_and_si256(spread, bit), bit);
    return _mm256_and_si256(set, _mm256_set1_epi8(0x10));
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

CWB_QUANT_AVX2 inline __m256i lowBits(__m256i v, int shift, int mask) {
    return _mm256_and_si256(_mm256_srli_epi16(v, shift), _mm256_set1_epi8(static_cast<char>(mask)));
}

}  // namespace

// ---- 32-value formats: two accumulators so that consecutive blocks overlap.

CWB_QUANT_AVX2 float dotQ4_0Avx2(const std::byte* w, const std::byte* a, std::int64_t n) {
    const auto* x = blocksOf<BlockQ4_0>(w);
    const auto* y = blocksOf<BlockQ8_0>(a);
    __m256 acc[2] = {_mm256_setzero_ps(), _mm256_setzero_ps()};
    const __m256i eight = _mm256_set1_epi8(8);
    for (std::int64_t i = 0; i < n / kQK; ++i) {
        const __m256i q = _mm256_sub_epi8(nibbles(x[i].qs), eight);
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
        const __m256i q =
            _mm256_sub_epi8(_mm256_or_si256(nibbles(x[i].qs), fifthBits(x[i].qh)), sixteen);
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
        const __m256 p = _mm256_cvtepi32_ps(mulSumU8S8(nibbles(x[i].qs), load32(y[i].qs)));
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
        const __m256i q = _mm256_or_si256(nibbles(x[i].qs), fifthBits(x[i].qh));
        const __m256 p = _mm256_cvtepi32_ps(mulSumU8S8(q, load32(y[i].qs)));
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
    for (std::int64_t i = 0; i < n / kQKK; ++i) {
        int mins = 0;
        for (int j = 0; j < 16; ++j) mins += (x[i].scales[j] >> 4) * bsum(y[i], j);
        __m256i sum = _mm256_setzero_si256();
        for (int h = 0; h < 2; ++h) {
            const __m256i qs = load32(x[i].qs + 32 * h);
            for (int j = 0; j < 4; ++j) {
                const int s = 8 * h + 2 * j;
                const __m256i u = lowBits(qs, 2 * j, 3);
                sum = _mm256_add_epi32(sum,
                                       scaledPair(u, load32(y[i].qs + 16 * s), x[i].scales[s] & 0xf,
                                                  x[i].scales[s + 1] & 0xf));
            }
        }
        acc = _mm256_fmadd_ps(_mm256_set1_ps(y[i].d * h2f(x[i].d)), _mm256_cvtepi32_ps(sum), acc);
        minTerm += y[i].d * h2f(x[i].dmin) * static_cast<float>(mins);
    }
    return hsum(acc) - minTerm;
}

CWB_QUANT_AVX2 float dotQ3_KAvx2(const std::byte* w, const std::byte* a, std::int64_t n) {
    const auto* x = blocksOf<BlockQ3_K>(w);
    const auto* y = blocksOf<BlockQ8_K>(a);
    __m256 acc = _mm256_setzero_ps();
    float offsetTerm = 0.f;
    for (std::int64_t i = 0; i < n / kQKK; ++i) {
        int scales[16], offset = 0;
        for (int j = 0; j < 16; ++j) {
            scales[j] = scaleQ3(x[i].scales, j);
            offset += scales[j] * bsum(y[i], j);
        }
        const __m256i hm = load32(x[i].hmask);
        __m256i sum = _mm256_setzero_si256();
        for (int h = 0; h < 2; ++h) {
            const __m256i qs = load32(x[i].qs + 32 * h);
            for (int j = 0; j < 4; ++j) {
                const int s = 8 * h + 2 * j;
                // code + 4 in 0..7: two bits, and 4 where the hmask bit is set
                const __m256i u = _mm256_or_si256(lowBits(qs, 2 * j, 3),
                                                  _mm256_slli_epi16(lowBits(hm, 4 * h + j, 1), 2));
                sum = _mm256_add_epi32(
                    sum, scaledPair(u, load32(y[i].qs + 16 * s), scales[s], scales[s + 1]));
            }
        }
        const float d = h2f(x[i].d) * y[i].d;
        acc = _mm256_fmadd_ps(_mm256_set1_ps(d), _mm256_cvtepi32_ps(sum), acc);
        offsetTerm += d * static_cast<float>(4 * offset);
    }
    return hsum(acc) - offsetTerm;
}

CWB_QUANT_AVX2 float dotQ4_KAvx2(const std::byte* w, const std::byte* a, std::int64_t n) {
    const auto* x = blocksOf<BlockQ4_K>(w);
    const auto* y = blocksOf<BlockQ8_K>(a);
    __m256 acc = _mm256_setzero_ps();
    float minTerm = 0.f;
    for (std::int64_t i = 0; i < n / kQKK; ++i) {
        int sc[8], m[8], mins = 0;
        for (int j = 0; j < 8; ++j) {
            scaleMinK4(x[i].scales, j, sc[j], m[j]);
            mins += m[j] * (bsum(y[i], 2 * j) + bsum(y[i], 2 * j + 1));
        }
        __m256i sum = _mm256_setzero_si256();
        for (int c = 0; c < 4; ++c) {
            const __m256i qb = load32(x[i].qs + 32 * c);
            const __m256i lo = _mm256_and_si256(qb, _mm256_set1_epi8(0x0f));
            const __m256i hi = lowBits(qb, 4, 0x0f);
            sum = _mm256_add_epi32(sum, scaledAll(lo, load32(y[i].qs + 64 * c), sc[2 * c]));
            sum =
                _mm256_add_epi32(sum, scaledAll(hi, load32(y[i].qs + 64 * c + 32), sc[2 * c + 1]));
        }
        acc = _mm256_fmadd_ps(_mm256_set1_ps(y[i].d * h2f(x[i].d)), _mm256_cvtepi32_ps(sum), acc);
        minTerm += y[i].d * h2f(x[i].dmin) * static_cast<float>(mins);
    }
    return hsum(acc) - minTerm;
}

CWB_QUANT_AVX2 float dotQ5_KAvx2(const std::byte* w, const std::byte* a, std::int64_t n) {
    const auto* x = blocksOf<BlockQ5_K>(w);
    const auto* y = blocksOf<BlockQ8_K>(a);
    __m256 acc = _mm256_setzero_ps();
    float minTerm = 0.f;
    for (std::int64_t i = 0; i < n / kQKK; ++i) {
        int sc[8], m[8], mins = 0;
        for (int j = 0; j < 8; ++j) {
            scaleMinK4(x[i].scales, j, sc[j], m[j]);
            mins += m[j] * (bsum(y[i], 2 * j) + bsum(y[i], 2 * j + 1));
        }
        const __m256i qh = load32(x[i].qh);
        __m256i sum = _mm256_setzero_si256();
        for (int c = 0; c < 4; ++c) {
            const __m256i qb = load32(x[i].qs + 32 * c);
            const __m256i lo = _mm256_or_si256(_mm256_and_si256(qb, _mm256_set1_epi8(0x0f)),
                                               _mm256_slli_epi16(lowBits(qh, 2 * c, 1), 4));
            const __m256i hi = _mm256_or_si256(lowBits(qb, 4, 0x0f),
                                               _mm256_slli_epi16(lowBits(qh, 2 * c + 1, 1), 4));
            sum = _mm256_add_epi32(sum, scaledAll(lo, load32(y[i].qs + 64 * c), sc[2 * c]));
            sum =
                _mm256_add_epi32(sum, scaledAll(hi, load32(y[i].qs + 64 * c + 32), sc[2 * c + 1]));
        }
        acc = _mm256_fmadd_ps(_mm256_set1_ps(y[i].d * h2f(x[i].d)), _mm256_cvtepi32_ps(sum), acc);
        minTerm += y[i].d * h2f(x[i].dmin) * static_cast<float>(mins);
    }
    return hsum(acc) - minTerm;
}

CWB_QUANT_AVX2 float dotQ6_KAvx2(const std::byte* w, const std::byte* a, std::int64_t n) {
    const auto* x = blocksOf<BlockQ6_K>(w);
    const auto* y = blocksOf<BlockQ8_K>(a);
    __m256 acc = _mm256_setzero_ps();
    float offsetTerm = 0.f;
    for (std::int64_t i = 0; i < n / kQKK; ++i) {
        int offset = 0;
        for (int j = 0; j < 16; ++j) offset += x[i].scales[j] * bsum(y[i], j);
        __m256i sum = _mm256_setzero_si256();
        for (int h = 0; h < 2; ++h) {
            const __m256i ql0 = load32(x[i].ql + 64 * h), ql1 = load32(x[i].ql + 64 * h + 32);
            const __m256i qh = load32(x[i].qh + 32 * h);
            const __m256i lowNibble = _mm256_set1_epi8(0x0f);
            // code + 32 in 0..63 for the four quarters of 32 values of this half
            const __m256i u[4] = {
                _mm256_or_si256(_mm256_and_si256(ql0, lowNibble),
                                _mm256_slli_epi16(lowBits(qh, 0, 3), 4)),
                _mm256_or_si256(_mm256_and_si256(ql1, lowNibble),
                                _mm256_slli_epi16(lowBits(qh, 2, 3), 4)),
                _mm256_or_si256(lowBits(ql0, 4, 0x0f), _mm256_slli_epi16(lowBits(qh, 4, 3), 4)),
                _mm256_or_si256(lowBits(ql1, 4, 0x0f), _mm256_slli_epi16(lowBits(qh, 6, 3), 4)),
            };
            for (int k = 0; k < 4; ++k) {
                const int s = 8 * h + 2 * k;
                sum = _mm256_add_epi32(sum, scaledPair(u[k], load32(y[i].qs + 16 * s),
                                                       x[i].scales[s], x[i].scales[s + 1]));
            }
        }
        const float d = h2f(x[i].d) * y[i].d;
        acc = _mm256_fmadd_ps(_mm256_set1_ps(d), _mm256_cvtepi32_ps(sum), acc);
        offsetTerm += d * static_cast<float>(32 * offset);
    }
    return hsum(acc) - offsetTerm;
}

}  // namespace cwb::quant::detail
