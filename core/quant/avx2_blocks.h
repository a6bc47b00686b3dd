// AVX2 building blocks shared by the dot products and the batched tiles (internal to
// core/quant): loads, and the codes of each format unpacked to bytes. K-format codes come out
// unsigned, group g holding values 32 g .. 32 g + 31 of a super-block: Q2_K 0..3, Q3_K code
// + 4 (0..7), Q4_K 0..15, Q5_K 0..31, Q6_K code + 32 (0..63).
#pragma once

#include <cstdint>
#include <cstring>

#include "core/quant/block_layouts.h"
#include "core/quant/simd_target.h"

namespace cwb::quant::detail::avx2 {

CWB_QUANT_AVX2 inline float h2f(std::uint16_t h) { return _cvtsh_ss(h); }

CWB_QUANT_AVX2 inline __m256i load32(const void* p) {
    return _mm256_loadu_si256(static_cast<const __m256i*>(p));
}

// Four bytes at p in every 32-bit lane.
CWB_QUANT_AVX2 inline __m256i broadcast4(const void* p) {
    std::int32_t v;
    std::memcpy(&v, p, 4);
    return _mm256_set1_epi32(v);
}

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

// Bits `shift` .. of every byte, masked.
CWB_QUANT_AVX2 inline __m256i lowBits(__m256i v, int shift, int mask) {
    return _mm256_and_si256(_mm256_srli_epi16(v, shift), _mm256_set1_epi8(static_cast<char>(mask)));
}

// 16 bytes of nibbles as 32 codes 0..15: the low nibbles (values 0-15), then the high ones.
CWB_QUANT_AVX2 inline __m256i nibbles(const std::uint8_t* qs) {
    const __m128i raw = _mm_loadu_si128(reinterpret_cast<const __m128i*>(qs));
    return _mm256_and_si256(_mm256_set_m128i(_mm_srli_epi16(raw, 4), raw), _mm256_set1_epi8(0x0f));
}

// 0x10 in byte k where bit k of the 32 bits at qh is set: the fifth bit of the Q5 formats.
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

// ---- codes of a 32-value block, unsigned: the offset (8, 16) is not taken off

CWB_QUANT_AVX2 inline __m256i codes(const BlockQ4_0& b) { return nibbles(b.qs); }
CWB_QUANT_AVX2 inline __m256i codes(const BlockQ4_1& b) { return nibbles(b.qs); }
CWB_QUANT_AVX2 inline __m256i codes(const BlockQ5_0& b) {
    return _mm256_or_si256(nibbles(b.qs), fifthBits(b.qh));
}
CWB_QUANT_AVX2 inline __m256i codes(const BlockQ5_1& b) {
    return _mm256_or_si256(nibbles(b.qs), fifthBits(b.qh));
}
CWB_QUANT_AVX2 inline __m256i codes(const BlockQ8_0& b) { return load32(b.qs); }  // signed

// ---- unsigned codes of a super-block, 8 groups of 32

CWB_QUANT_AVX2 inline void codes(const BlockQ2_K& b, __m256i* u) {
    for (int h = 0; h < 2; ++h) {
        const __m256i qs = load32(b.qs + 32 * h);
        for (int j = 0; j < 4; ++j) u[4 * h + j] = lowBits(qs, 2 * j, 3);
    }
}

CWB_QUANT_AVX2 inline void codes(const BlockQ3_K& b, __m256i* u) {
    const __m256i hm = load32(b.hmask);
    for (int h = 0; h < 2; ++h) {
        const __m256i qs = load32(b.qs + 32 * h);
        for (int j = 0; j < 4; ++j)  // two bits, and 4 where the hmask bit is set
            u[4 * h + j] = _mm256_or_si256(lowBits(qs, 2 * j, 3),
                                           _mm256_slli_epi16(lowBits(hm, 4 * h + j, 1), 2));
    }
}

CWB_QUANT_AVX2 inline void codes(const BlockQ4_K& b, __m256i* u) {
    for (int c = 0; c < 4; ++c) {
        const __m256i q = load32(b.qs + 32 * c);
        u[2 * c] = _mm256_and_si256(q, _mm256_set1_epi8(0x0f));
        u[2 * c + 1] = lowBits(q, 4, 0x0f);
    }
}

CWB_QUANT_AVX2 inline void codes(const BlockQ5_K& b, __m256i* u) {
    const __m256i qh = load32(b.qh);
    for (int c = 0; c < 4; ++c) {
        const __m256i q = load32(b.qs + 32 * c);
        u[2 * c] = _mm256_or_si256(_mm256_and_si256(q, _mm256_set1_epi8(0x0f)),
                                   _mm256_slli_epi16(lowBits(qh, 2 * c, 1), 4));
        u[2 * c + 1] =
            _mm256_or_si256(lowBits(q, 4, 0x0f), _mm256_slli_epi16(lowBits(qh, 2 * c + 1, 1), 4));
    }
}

CWB_QUANT_AVX2 inline void codes(const BlockQ6_K& b, __m256i* u) {
    const __m256i low = _mm256_set1_epi8(0x0f);
    for (int h = 0; h < 2; ++h) {
        const __m256i ql0 = load32(b.ql + 64 * h), ql1 = load32(b.ql + 64 * h + 32);
        const __m256i qh = load32(b.qh + 32 * h);
        u[4 * h] =
            _mm256_or_si256(_mm256_and_si256(ql0, low), _mm256_slli_epi16(lowBits(qh, 0, 3), 4));
        u[4 * h + 1] =
            _mm256_or_si256(_mm256_and_si256(ql1, low), _mm256_slli_epi16(lowBits(qh, 2, 3), 4));
        u[4 * h + 2] =
            _mm256_or_si256(lowBits(ql0, 4, 0x0f), _mm256_slli_epi16(lowBits(qh, 4, 3), 4));
        u[4 * h + 3] =
            _mm256_or_si256(lowBits(ql1, 4, 0x0f), _mm256_slli_epi16(lowBits(qh, 6, 3), 4));
    }
}

}  // namespace cwb::quant::detail::avx2
