// AVX-512 VNNI kernels for Q4_1, Q5_0 and Q5_1 (Q4_0 and Q8_0 run their AVX2 passes, see
// block_formats.cpp): two blocks per 512-bit register and _mm512_dpbusd_epi32 (u8 x s8, four
// products into each int32 lane). Unsigned codes go in as they are and Q5_0's offset of 16 is
// taken off with a second dpbusd of the offset against the activations. A last odd block
// uses the reference.
#include "core/quant/block_layouts.h"
#include "core/quant/fp16.h"
#include "core/quant/kernels.h"
#include "core/quant/simd_target.h"

namespace cwb::quant::detail {
namespace {

CWB_QUANT_AVX512 inline float h2f(std::uint16_t h) { return _cvtsh_ss(h); }

// Two 32-byte runs (two blocks' codes or activations) as one register.
CWB_QUANT_AVX512 inline __m512i load2x32(const void* a, const void* b) {
    const __m256i lo = _mm256_loadu_si256(static_cast<const __m256i*>(a));
    const __m256i hi = _mm256_loadu_si256(static_cast<const __m256i*>(b));
    return _mm512_inserti64x4(_mm512_castsi256_si512(lo), hi, 1);
}

// The nibbles of two blocks as 64 codes 0..15 in value order: per block the low nibbles
// (values 0-15), then the high ones.
CWB_QUANT_AVX512 inline __m512i nibbles2(const std::uint8_t* qa, const std::uint8_t* qb) {
    const __m128i a = _mm_loadu_si128(reinterpret_cast<const __m128i*>(qa));
    const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(qb));
    __m512i v = _mm512_castsi128_si512(a);
    v = _mm512_inserti32x4(v, a, 1);
    v = _mm512_inserti32x4(v, b, 2);
    v = _mm512_inserti32x4(v, b, 3);
    const __m512i shifted = _mm512_srli_epi16(v, 4);
    v = _mm512_mask_blend_epi64(0xcc, v, shifted);  // 128-bit quarters 1 and 3 shifted
    return _mm512_and_si512(v, _mm512_set1_epi8(0x0f));
}

// 0x10 in byte k where bit k of the two blocks' qh (32 bits each) is set.
CWB_QUANT_AVX512 inline __m512i fifthBits2(const std::uint8_t* qa, const std::uint8_t* qb) {
    std::uint32_t a, b;
    std::memcpy(&a, qa, 4);
    std::memcpy(&b, qb, 4);
    const __mmask64 bits = static_cast<__mmask64>(a) | (static_cast<__mmask64>(b) << 32);
    return _mm512_maskz_mov_epi8(bits, _mm512_set1_epi8(0x10));
}

// Lanes 0-7 scaled by s0, lanes 8-15 by s1.
CWB_QUANT_AVX512 inline __m512 scales2(float s0, float s1) {
    return _mm512_mask_blend_ps(0xff00, _mm512_set1_ps(s0), _mm512_set1_ps(s1));
}

CWB_QUANT_AVX512 inline __m512 dotOffset(__m512i codes, __m512i act, __m512i offset) {
    const __m512i z = _mm512_setzero_si512();
    const __m512i p =
        _mm512_sub_epi32(_mm512_dpbusd_epi32(z, codes, act), _mm512_dpbusd_epi32(z, offset, act));
    return _mm512_cvtepi32_ps(p);
}
CWB_QUANT_AVX512 inline __m512 dotPlain(__m512i codes, __m512i act) {
    return _mm512_cvtepi32_ps(_mm512_dpbusd_epi32(_mm512_setzero_si512(), codes, act));
}

// ---- the codes of two blocks, unsigned: offsets (16) not taken off

CWB_QUANT_AVX512 inline __m512i codes2(const BlockQ4_1& a, const BlockQ4_1& b) {
    return nibbles2(a.qs, b.qs);
}
CWB_QUANT_AVX512 inline __m512i codes2(const BlockQ5_0& a, const BlockQ5_0& b) {
    return _mm512_or_si512(nibbles2(a.qs, b.qs), fifthBits2(a.qh, b.qh));
}
CWB_QUANT_AVX512 inline __m512i codes2(const BlockQ5_1& a, const BlockQ5_1& b) {
    return _mm512_or_si512(nibbles2(a.qs, b.qs), fifthBits2(a.qh, b.qh));
}

// Two blocks per step; Q5_0's offset of 16 taken off with a second dpbusd,
// the minimums of Q4_1 and Q5_1 added per block; a last odd block by the reference `ref`.
template <typename Block, typename ActBlock, int offset,
          float (*ref)(const std::byte*, const std::byte*, std::int64_t)>
CWB_QUANT_AVX512 inline float dotLegacyAvx512(const std::byte* w, const std::byte* a,
                                              std::int64_t n) {
    constexpr bool hasMin = offset == 0;
    const auto* x = blocksOf<Block>(w);
    const auto* y = blocksOf<ActBlock>(a);
    const std::int64_t nb = n / kQK;
    __m512 acc = _mm512_setzero_ps();
    float mins = 0.f;
    std::int64_t i = 0;
    for (; i + 1 < nb; i += 2) {
        const __m512i q = codes2(x[i], x[i + 1]);
        const __m512i act = load2x32(y[i].qs, y[i + 1].qs);
        const __m512 p = hasMin ? dotPlain(q, act)
                                : dotOffset(q, act, _mm512_set1_epi8(static_cast<char>(offset)));
        acc = _mm512_fmadd_ps(scales2(h2f(x[i].d) * h2f(y[i].d), h2f(x[i + 1].d) * h2f(y[i + 1].d)),
                              p, acc);
        if constexpr (hasMin) mins += h2f(x[i].m) * h2f(y[i].s) + h2f(x[i + 1].m) * h2f(y[i + 1].s);
    }
    float sum = _mm512_reduce_add_ps(acc);
    if constexpr (hasMin) sum += mins;
    if (i < nb) sum += ref(w + i * sizeof(Block), a + i * sizeof(ActBlock), kQK);
    return sum;
}

}  // namespace

CWB_QUANT_AVX512 float dotQ5_0Avx512(const std::byte* w, const std::byte* a, std::int64_t n) {
    return dotLegacyAvx512<BlockQ5_0, BlockQ8_0, 16, dotQ5_0Ref>(w, a, n);
}
CWB_QUANT_AVX512 float dotQ4_1Avx512(const std::byte* w, const std::byte* a, std::int64_t n) {
    return dotLegacyAvx512<BlockQ4_1, BlockQ8_1, 0, dotQ4_1Ref>(w, a, n);
}
CWB_QUANT_AVX512 float dotQ5_1Avx512(const std::byte* w, const std::byte* a, std::int64_t n) {
    return dotLegacyAvx512<BlockQ5_1, BlockQ8_1, 0, dotQ5_1Ref>(w, a, n);
}

}  // namespace cwb::quant::detail
