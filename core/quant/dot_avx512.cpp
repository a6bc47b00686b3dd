// AVX-512 VNNI kernels for the 32-value formats: two blocks per 512-bit register and
// _mm512_dpbusd_epi32 (u8 x s8, four products into each int32 lane). Unsigned codes go in
// as they are and the offsets of signed codes (8, 16, 128) are taken off with a second
// dpbusd of the offset against the activations. A last odd block uses the reference.
#include "core/quant/block_layouts.h"
#include "core/quant/fp16.h"
#include "core/quant/kernels.h"
#include "core/quant/simd_target.h"

namespace cwb::quant::detail {
namespace {

template <typename Block>
const Block* blocksOf(const std::byte* p) {
    return reinterpret_cast<const Block*>(p);
}

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

}  // namespace

CWB_QUANT_AVX512 float dotQ4_0Avx512(const std::byte* w, const std::byte* a, std::int64_t n) {
    const auto* x = blocksOf<BlockQ4_0>(w);
    const auto* y = blocksOf<BlockQ8_0>(a);
    const std::int64_t nb = n / kQK;
    __m512 acc = _mm512_setzero_ps();
    const __m512i eight = _mm512_set1_epi8(8);
    std::int64_t i = 0;
    for (; i + 1 < nb; i += 2) {
        const __m512 p =
            dotOffset(nibbles2(x[i].qs, x[i + 1].qs), load2x32(y[i].qs, y[i + 1].qs), eight);
        acc = _mm512_fmadd_ps(scales2(h2f(x[i].d) * h2f(y[i].d), h2f(x[i + 1].d) * h2f(y[i + 1].d)),
                              p, acc);
    }
    float sum = _mm512_reduce_add_ps(acc);
    if (i < nb) sum += dotQ4_0Ref(w + i * sizeof(BlockQ4_0), a + i * sizeof(BlockQ8_0), kQK);
    return sum;
}

CWB_QUANT_AVX512 float dotQ5_0Avx512(const std::byte* w, const std::byte* a, std::int64_t n) {
    const auto* x = blocksOf<BlockQ5_0>(w);
    const auto* y = blocksOf<BlockQ8_0>(a);
    const std::int64_t nb = n / kQK;
    __m512 acc = _mm512_setzero_ps();
    const __m512i sixteen = _mm512_set1_epi8(16);
    std::int64_t i = 0;
    for (; i + 1 < nb; i += 2) {
        const __m512i q =
            _mm512_or_si512(nibbles2(x[i].qs, x[i + 1].qs), fifthBits2(x[i].qh, x[i + 1].qh));
        const __m512 p = dotOffset(q, load2x32(y[i].qs, y[i + 1].qs), sixteen);
        acc = _mm512_fmadd_ps(scales2(h2f(x[i].d) * h2f(y[i].d), h2f(x[i + 1].d) * h2f(y[i + 1].d)),
                              p, acc);
    }
    float sum = _mm512_reduce_add_ps(acc);
    if (i < nb) sum += dotQ5_0Ref(w + i * sizeof(BlockQ5_0), a + i * sizeof(BlockQ8_0), kQK);
    return sum;
}

CWB_QUANT_AVX512 float dotQ4_1Avx512(const std::byte* w, const std::byte* a, std::int64_t n) {
    const auto* x = blocksOf<BlockQ4_1>(w);
    const auto* y = blocksOf<BlockQ8_1>(a);
    const std::int64_t nb = n / kQK;
    __m512 acc = _mm512_setzero_ps();
    float mins = 0.f;
    std::int64_t i = 0;
    for (; i + 1 < nb; i += 2) {
        const __m512 p = dotPlain(nibbles2(x[i].qs, x[i + 1].qs), load2x32(y[i].qs, y[i + 1].qs));
        acc = _mm512_fmadd_ps(scales2(h2f(x[i].d) * h2f(y[i].d), h2f(x[i + 1].d) * h2f(y[i + 1].d)),
                              p, acc);
        mins += h2f(x[i].m) * h2f(y[i].s) + h2f(x[i + 1].m) * h2f(y[i + 1].s);
    }
    float sum = _mm512_reduce_add_ps(acc) + mins;
    if (i < nb) sum += dotQ4_1Ref(w + i * sizeof(BlockQ4_1), a + i * sizeof(BlockQ8_1), kQK);
    return sum;
}

CWB_QUANT_AVX512 float dotQ5_1Avx512(const std::byte* w, const std::byte* a, std::int64_t n) {
    const auto* x = blocksOf<BlockQ5_1>(w);
    const auto* y = blocksOf<BlockQ8_1>(a);
    const std::int64_t nb = n / kQK;
    __m512 acc = _mm512_setzero_ps();
    float mins = 0.f;
    std::int64_t i = 0;
    for (; i + 1 < nb; i += 2) {
        const __m512i q =
            _mm512_or_si512(nibbles2(x[i].qs, x[i + 1].qs), fifthBits2(x[i].qh, x[i + 1].qh));
        const __m512 p = dotPlain(q, load2x32(y[i].qs, y[i + 1].qs));
        acc = _mm512_fmadd_ps(scales2(h2f(x[i].d) * h2f(y[i].d), h2f(x[i + 1].d) * h2f(y[i + 1].d)),
                              p, acc);
        mins += h2f(x[i].m) * h2f(y[i].s) + h2f(x[i + 1].m) * h2f(y[i + 1].s);
    }
    float sum = _mm512_reduce_add_ps(acc) + mins;
    if (i < nb) sum += dotQ5_1Ref(w + i * sizeof(BlockQ5_1), a + i * sizeof(BlockQ8_1), kQK);
    return sum;
}

// Signed weights become unsigned by w + 128 (w xor 0x80); 128 * sum(a) is taken off again.
CWB_QUANT_AVX512 float dotQ8_0Avx512(const std::byte* w, const std::byte* a, std::int64_t n) {
    const auto* x = blocksOf<BlockQ8_0>(w);
    const auto* y = blocksOf<BlockQ8_0>(a);
    const std::int64_t nb = n / kQK;
    __m512 acc = _mm512_setzero_ps();
    const __m512i bias = _mm512_set1_epi8(static_cast<char>(0x80));
    std::int64_t i = 0;
    for (; i + 1 < nb; i += 2) {
        const __m512i q = _mm512_xor_si512(load2x32(x[i].qs, x[i + 1].qs), bias);
        const __m512 p = dotOffset(q, load2x32(y[i].qs, y[i + 1].qs), bias);
        acc = _mm512_fmadd_ps(scales2(h2f(x[i].d) * h2f(y[i].d), h2f(x[i + 1].d) * h2f(y[i + 1].d)),
                              p, acc);
    }
    float sum = _mm512_reduce_add_ps(acc);
    if (i < nb) sum += dotQ8_0Ref(w + i * sizeof(BlockQ8_0), a + i * sizeof(BlockQ8_0), kQK);
    return sum;
}

}  // namespace cwb::quant::detail
