// Batched products of packed weights with many tokens (prefill), AVX2: the kernels of
// tile_body.h with 8 weight rows per tile, one row per int32 lane of a 256-bit register. One
// step multiplies 4 values of 8 rows with the same 4 activation bytes, broadcast (maddubs,
// then madd with the rows' scales or with ones); signed Q8_0 codes use the sign trick.
#include "core/model/dtype.h"
#include "core/quant/avx2_blocks.h"
#include "core/quant/simd_target.h"
#include "core/quant/tile_common.h"

namespace cwb::quant::detail {
namespace {

struct Avx2Tiles {
    static constexpr int kRows = 8;
    static constexpr int kSignedOffset = 0;  // the sign trick multiplies signed codes directly
    CWB_TILE_VECTOR_OPS(CWB_QUANT_AVX2, 256, _mm256, si256)

    template <tiles::Legacy kind, typename Block>
    CWB_QUANT_AVX2 static __m256i legacyCodes(const Block& b) {
        return avx2::codes(b);
    }

    template <tiles::Legacy kind>
    CWB_QUANT_AVX2 static I legacyStep(I sum, I w, I a) {
        I pairs;
        if constexpr (kind == tiles::Legacy::Signed)
            pairs = _mm256_maddubs_epi16(_mm256_sign_epi8(w, w), _mm256_sign_epi8(a, w));
        else
            pairs = _mm256_maddubs_epi16(w, a);
        return _mm256_add_epi32(sum, _mm256_madd_epi16(pairs, _mm256_set1_epi16(1)));
    }

    CWB_QUANT_AVX2 static I scaledGroup(I sum, const Reg* w, const std::int8_t* qs, I scale) {
        for (int st = 0; st < 4; ++st)
            sum = _mm256_add_epi32(
                sum,
                _mm256_madd_epi16(_mm256_maddubs_epi16(w[st].v, broadcast4(qs + 4 * st)), scale));
        return sum;
    }

    // int16 lanes 2k and 2k + 1 both hold row k's scale: a multiplier for madd.
    CWB_QUANT_AVX2 static I scaleReg(const int* perRow) {
        alignas(32) std::int16_t v[16];
        for (int k = 0; k < 8; ++k) v[2 * k] = v[2 * k + 1] = static_cast<std::int16_t>(perRow[k]);
        return _mm256_load_si256(reinterpret_cast<const __m256i*>(v));
    }

    CWB_QUANT_AVX2 static void storeSteps(__m256i* rows, Reg* out) {
        tiles::transpose8(rows);
        for (int s = 0; s < 8; ++s) out[s].v = rows[s];
    }
};

}  // namespace
}  // namespace cwb::quant::detail

#define CWB_TILE_TARGET CWB_QUANT_AVX2
#define CWB_TILE_ISA Avx2Tiles
#define CWB_TILE_ENTRY tileMatmulAvx2
#include "core/quant/tile_body.h"

namespace cwb::quant::detail {

bool hasTiles(DType type) {
    switch (type) {
        case DType::Q4_0:
        case DType::Q5_0:
        case DType::Q8_0:
        case DType::Q4_1:
        case DType::Q5_1:
        case DType::Q2_K:
        case DType::Q3_K:
        case DType::Q4_K:
        case DType::Q5_K:
        case DType::Q6_K:
            return true;
        default:
            return false;
    }
}

}  // namespace cwb::quant::detail
