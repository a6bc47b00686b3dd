// The packed sub-block scales of the K formats (internal to core/quant), shared by the
// decoders, the reference dot products and the vector kernels.
#pragma once

#include <cstdint>

namespace cwb::quant::detail {

// Q4_K/Q5_K: scale and minimum of sub-block j (6 bits each). j < 4: the low 6 bits of bytes
// j and j + 4; j >= 4: the nibbles of byte j + 4, with the top 2 bits in bits 6-7 of bytes
// j - 4 and j.
inline void scaleMinK4(const std::uint8_t* s, int j, int& scale, int& min) {
    if (j < 4) {
        scale = s[j] & 63;
        min = s[j + 4] & 63;
    } else {
        scale = (s[j + 4] & 0xf) | ((s[j - 4] >> 6) << 4);
        min = (s[j + 4] >> 4) | ((s[j] >> 6) << 4);
    }
}

// Q3_K: scale j in [-32, 31]; low 4 bits in a nibble of bytes 0-7, high 2 bits in bytes 8-11.
inline int scaleQ3(const std::uint8_t* scales, int j) {
    const int low = j < 8 ? scales[j] & 0xf : scales[j - 8] >> 4;
    return (low | (((scales[8 + j % 4] >> (2 * (j / 4))) & 3) << 4)) - 32;
}

}  // namespace cwb::quant::detail
