// What the AVX2 and AVX-512 tiles share (internal to core/quant): the kinds of 32-value
// formats, the K formats' sub-block scales as the tiles use them, and the rows of a tile.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "core/quant/block_layouts.h"
#include "core/quant/fp16.h"
#include "core/quant/k_scales.h"
#include "core/quant/simd_target.h"

namespace cwb::quant::detail::tiles {

// How a 32-value format's codes relate to its values: unsigned codes less 8 or 16, unsigned
// codes with a minimum, or signed codes.
enum class Legacy { Offset8, Offset16, Min, Signed };

enum class Bias { Mins, Offsets };

struct SubScales {
    int scale[16];  // per sub-block of 16
    int coef[16];   // the multiplier of the sub-block's activation sum: min or offset x scale
};

inline void subScales(const BlockQ2_K& b, SubScales& s) {
    for (int j = 0; j < 16; ++j) {
        s.scale[j] = b.scales[j] & 0xf;
        s.coef[j] = b.scales[j] >> 4;
    }
}
inline void subScales(const BlockQ3_K& b, SubScales& s) {
    for (int j = 0; j < 16; ++j) {
        s.scale[j] = scaleQ3(b.scales, j);
        s.coef[j] = 4 * s.scale[j];
    }
}
template <typename Block>
inline void subScalesK4(const Block& b, SubScales& s) {
    for (int g = 0; g < 8; ++g) {
        int sc, m;
        scaleMinK4(b.scales, g, sc, m);
        s.scale[2 * g] = s.scale[2 * g + 1] = sc;
        s.coef[2 * g] = s.coef[2 * g + 1] = m;
    }
}
inline void subScales(const BlockQ4_K& b, SubScales& s) { subScalesK4(b, s); }
inline void subScales(const BlockQ5_K& b, SubScales& s) { subScalesK4(b, s); }
inline void subScales(const BlockQ6_K& b, SubScales& s) {
    for (int j = 0; j < 16; ++j) {
        s.scale[j] = b.scales[j];
        s.coef[j] = 32 * s.scale[j];
    }
}
inline float minScale(const BlockQ2_K& b) { return halfToFloat(b.dmin); }
inline float minScale(const BlockQ4_K& b) { return halfToFloat(b.dmin); }
inline float minScale(const BlockQ5_K& b) { return halfToFloat(b.dmin); }
inline float minScale(const BlockQ3_K&) { return 0.f; }
inline float minScale(const BlockQ6_K&) { return 0.f; }

// The vector types and plain operations of tile_body.h's traits for one register width,
// written once: ATTR the target attribute, BITS the width (256, 512), P the intrinsics'
// prefix (_mm256, _mm512), B the integer register's suffix (si256, si512). Reg: alignas, as a
// translation unit built without AVX gives __m256i only 16-byte alignment, while the kernels
// store with aligned moves (and a struct, as vector types lose their attributes as template
// arguments).
#define CWB_TILE_VECTOR_OPS(ATTR, BITS, P, B)                         \
    using I = __m##BITS##i;                                           \
    using F = __m##BITS;                                              \
    struct alignas(BITS / 8) Reg {                                    \
        I v;                                                          \
    };                                                                \
    ATTR static I zeroI() { return P##_setzero_##B(); }               \
    ATTR static I addI(I x, I y) { return P##_add_epi32(x, y); }      \
    ATTR static I subI(I x, I y) { return P##_sub_epi32(x, y); }      \
    ATTR static I set1I(std::int32_t v) { return P##_set1_epi32(v); } \
    ATTR static I madd16(I x, I y) { return P##_madd_epi16(x, y); }   \
    ATTR static F zeroF() { return P##_setzero_ps(); }                \
    ATTR static F addF(F x, F y) { return P##_add_ps(x, y); }         \
    ATTR static F subF(F x, F y) { return P##_sub_ps(x, y); }         \
    ATTR static F mulF(F x, F y) { return P##_mul_ps(x, y); }         \
    ATTR static F set1F(float v) { return P##_set1_ps(v); }           \
    ATTR static F loadF(const float* p) { return P##_loadu_ps(p); }   \
    ATTR static void storeF(float* p, F v) { P##_store_ps(p, v); }    \
    ATTR static F toFloat(I v) { return P##_cvtepi32_ps(v); }         \
    ATTR static I broadcast4(const std::int8_t* p) {                  \
        std::int32_t v;                                               \
        std::memcpy(&v, p, 4);                                        \
        return P##_set1_epi32(v);                                     \
    }

// The `count` rows of a tile starting at r0; a short tile repeats its last row.
template <typename Block>
void rowPointers(const std::byte* w, std::size_t stride, std::int64_t r0, std::int64_t rowEnd,
                 const Block** rows, int count) {
    for (int k = 0; k < count; ++k) {
        const std::int64_t r = std::min<std::int64_t>(r0 + k, rowEnd - 1);
        rows[k] = reinterpret_cast<const Block*>(w + r * stride);
    }
}

// Rows r[0..7], each 8 int32 (4 codes each), become steps r[0..7] holding int32 s of every
// row.
CWB_QUANT_AVX2 inline void transpose8(__m256i* r) {
    __m256i t[8], u[8];
    for (int k = 0; k < 8; k += 2) {
        t[k] = _mm256_unpacklo_epi32(r[k], r[k + 1]);
        t[k + 1] = _mm256_unpackhi_epi32(r[k], r[k + 1]);
    }
    for (int k = 0; k < 8; k += 4) {
        u[k] = _mm256_unpacklo_epi64(t[k], t[k + 2]);
        u[k + 1] = _mm256_unpackhi_epi64(t[k], t[k + 2]);
        u[k + 2] = _mm256_unpacklo_epi64(t[k + 1], t[k + 3]);
        u[k + 3] = _mm256_unpackhi_epi64(t[k + 1], t[k + 3]);
    }
    for (int s = 0; s < 4; ++s) {
        r[s] = _mm256_permute2x128_si256(u[s], u[s + 4], 0x20);
        r[s + 4] = _mm256_permute2x128_si256(u[s], u[s + 4], 0x31);
    }
}

}  // namespace cwb::quant::detail::tiles
