// Batched products of packed weights with many tokens (prefill), AVX-512 VNNI: the kernels
// of tile_body.h with 16 weight rows per tile, one row per int32 lane of a 512-bit register,
// and one _mm512_dpbusd_epi32 per step of 4 values (u8 codes x s8 activations, four products
// added into each lane). Signed Q8_0 codes go in as code + 128; the K formats' sub-block
// scales multiply each 16 values' lane sums (mullo).
#include "core/model/dtype.h"
#include "core/quant/avx2_blocks.h"
#include "core/quant/simd_target.h"
#include "core/quant/tile_common.h"

namespace cwb::quant::detail {
namespace {

struct Avx512Tiles {
    static constexpr int kRows = 16;
    static constexpr int kSignedOffset = 128;  // signed codes go in as code + 128
    CWB_TILE_VECTOR_OPS(CWB_QUANT_AVX512, 512, _mm512, si512)

    template <tiles::Legacy kind, typename Block>
    CWB_QUANT_AVX512 static __m256i legacyCodes(const Block& b) {
        const __m256i c = avx2::codes(b);
        if constexpr (kind == tiles::Legacy::Signed)  // code + 128, unsigned
            return _mm256_xor_si256(c, _mm256_set1_epi8(static_cast<char>(0x80)));
        else
            return c;
    }

    template <tiles::Legacy>
    CWB_QUANT_AVX512 static I legacyStep(I sum, I w, I a) {
        return _mm512_dpbusd_epi32(sum, w, a);
    }

    CWB_QUANT_AVX512 static I scaledGroup(I sum, const Reg* w, const std::int8_t* qs, I scale) {
        I part = _mm512_setzero_si512();
        for (int st = 0; st < 4; ++st)
            part = _mm512_dpbusd_epi32(part, w[st].v, broadcast4(qs + 4 * st));
        return _mm512_add_epi32(sum, _mm512_mullo_epi32(part, scale));
    }

    // int32 lane k holds row k's scale.
    CWB_QUANT_AVX512 static I scaleReg(const int* perRow) {
        alignas(64) std::int32_t v[16];
        for (int k = 0; k < 16; ++k) v[k] = perRow[k];
        return _mm512_load_si512(v);
    }

    // Rows 0-7 and 8-15 transposed apart, then joined: step s holds every row's int32 s.
    CWB_QUANT_AVX512 static void storeSteps(__m256i* rows, Reg* out) {
        tiles::transpose8(rows);
        tiles::transpose8(rows + 8);
        for (int s = 0; s < 8; ++s)
            out[s].v = _mm512_inserti64x4(_mm512_castsi256_si512(rows[s]), rows[8 + s], 1);
    }
};

}  // namespace
}  // namespace cwb::quant::detail

#define CWB_TILE_TARGET CWB_QUANT_AVX512
#define CWB_TILE_ISA Avx512Tiles
#define CWB_TILE_ENTRY tileMatmulAvx512
#include "core/quant/tile_body.h"
