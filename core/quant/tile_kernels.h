// The batched (prefill) products over tiles of weight rows (internal to core/quant): what a
// worker needs to fill y for its rows and every token.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/model/dtype.h"

namespace cwb::quant::detail {

struct TileJob {
    const std::byte* weights = nullptr;  // row 0
    std::size_t stride = 0;              // bytes between rows
    std::int64_t cols = 0;
    std::int64_t rowBegin = 0, rowEnd = 0;
    const std::byte* activations = nullptr;  // token 0, in the weight type's activation format
    std::size_t activationStride = 0;
    std::int64_t tokens = 0;
    const std::int32_t* blockSums = nullptr;  // Q8_0 activations: [token][block] sums of codes
    const float* packedTokens = nullptr;      // float rows: packTokensAvx2's layout
    float* y = nullptr;                       // y[t * ldy + r]
    std::int64_t ldy = 0;
};

// The weight dtypes with tiles: the block formats with a dot product.
bool hasTiles(DType type);
// Fills the job's rows for every token with the reference dot products' exact values;
// false for a type without tiles.
bool tileMatmulAvx2(DType type, const TileJob& job);    // tiles of 8 rows
bool tileMatmulAvx512(DType type, const TileJob& job);  // tiles of 16 rows
// F32, F16 and BF16 rows against float32 activations (AVX2 with FMA and F16C), in tiles of 6
// rows against groups of 16 tokens; equal to the reference dot products within float
// rounding, not bit for bit. job.packedTokens holds the activations as packTokensAvx2 lays
// them out (once per product group, for every worker): groups of kFloatGroupTokens tokens,
// each n x kFloatGroupTokens floats; a call fills groups [groupBegin, groupEnd).
bool floatTilesAvx2(DType type, const TileJob& job);
// The same with AVX-512 (tiles of 12 rows against two groups of tokens): the same bits.
bool floatTilesAvx512(DType type, const TileJob& job);
constexpr std::int64_t kFloatGroupTokens = 16;
void packTokensAvx2(const TileJob& job, std::int64_t groupBegin, std::int64_t groupEnd,
                    float* packed);

}  // namespace cwb::quant::detail
