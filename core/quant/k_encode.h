// The K formats' reference quantizers after their sub-block searches (internal to
// core/quant): the super-block's stored scales from each sub-block's scale (and minimum),
// then the codes again against those stored scales and the block's bytes. The reference
// encoders and the vector ones share these steps, so only the search differs between them,
// and the statistics path takes the stored scales from here too.
#pragma once

#include <cstdint>

#include "core/quant/block_layouts.h"

namespace cwb::quant::detail {

// Q4_K and Q5_K: 6-bit scales and minima (mins are the searches' negated minima).
void scalesQ4K(const float* scales, const float* mins, BlockQ4_K& y);
void scalesQ5K(const float* scales, const float* mins, BlockQ5_K& y);
// The stored scale and minimum of sub-block j (of 32): its values decode as
// scale * code - min.
void subScalesQ4K(const BlockQ4_K& y, int j, float& scale, float& min);
void subScalesQ5K(const BlockQ5_K& y, int j, float& scale, float& min);
// `codes` holds the search's codes (0..15, 0..31) on entry; those of a sub-block whose
// stored scale is 0 stay.
void finishQ4K(const float* x, std::uint8_t* codes, BlockQ4_K& y);
void finishQ5K(const float* x, std::uint8_t* codes, BlockQ5_K& y);

// Q2_K: 4-bit scales and minima of 16 sub-blocks of 16.
void scalesQ2K(const float* scales, const float* mins, BlockQ2_K& y);
void subScalesQ2K(const BlockQ2_K& y, int j, float& scale, float& min);
void finishQ2K(const float* x, std::uint8_t* codes, BlockQ2_K& y);

// Q3_K and Q6_K: signed scales of 16 sub-blocks of 16; values decode as scale * code with
// codes signed. Search codes are stored with their offset (4, 32) added. scalesQ6K returns
// false for a block whose scales are all below 1e-15: it is written whole (all zero).
void scalesQ3K(const float* scales, BlockQ3_K& y);
float subScaleQ3K(const BlockQ3_K& y, int j);
void finishQ3K(const float* x, std::int8_t* codes, BlockQ3_K& y);
bool scalesQ6K(const float* scales, BlockQ6_K& y);
float subScaleQ6K(const BlockQ6_K& y, int j);
void finishQ6K(const float* x, std::int8_t* codes, BlockQ6_K& y);

}  // namespace cwb::quant::detail
