// The byte layouts of llama.cpp's blocks (ggml-common.h), as packed structs: a block may sit
// at any byte offset of a mapped file, so every field is read unaligned. Half-precision
// fields are raw fp16 bits (see fp16.h). Internal to core/quant.
#pragma once

#include <cstddef>
#include <cstdint>

namespace cwb::quant {

constexpr int kQK = 32;    // weights per block of the "legacy" formats
constexpr int kQKK = 256;  // weights per super-block of the K formats

#define CWB_PACKED __attribute__((packed))

struct CWB_PACKED BlockQ4_0 {
    std::uint16_t d;
    std::uint8_t qs[kQK / 2];  // element j in the low nibble of qs[j], j + 16 in the high
};
struct CWB_PACKED BlockQ4_1 {
    std::uint16_t d, m;
    std::uint8_t qs[kQK / 2];
};
struct CWB_PACKED BlockQ5_0 {
    std::uint16_t d;
    std::uint8_t qh[4];  // bit j: the fifth bit of element j
    std::uint8_t qs[kQK / 2];
};
struct CWB_PACKED BlockQ5_1 {
    std::uint16_t d, m;
    std::uint8_t qh[4];
    std::uint8_t qs[kQK / 2];
};
struct CWB_PACKED BlockQ8_0 {
    std::uint16_t d;
    std::int8_t qs[kQK];
};
struct CWB_PACKED BlockQ8_1 {
    std::uint16_t d, s;  // s = d * sum(qs)
    std::int8_t qs[kQK];
};

// Q2_K: 16 sub-blocks of 16, each a 4-bit scale (low nibble) and 4-bit min (high nibble).
struct CWB_PACKED BlockQ2_K {
    std::uint8_t scales[kQKK / 16];
    std::uint8_t qs[kQKK / 4];
    std::uint16_t d, dmin;
};
// Q3_K: 2-bit codes plus a high bit in hmask; 16 signed 6-bit scales packed in 12 bytes.
struct CWB_PACKED BlockQ3_K {
    std::uint8_t hmask[kQKK / 8];
    std::uint8_t qs[kQKK / 4];
    std::uint8_t scales[12];
    std::uint16_t d;
};
// Q4_K and Q5_K: 8 sub-blocks of 32, a 6-bit scale and 6-bit min each, packed in 12 bytes.
struct CWB_PACKED BlockQ4_K {
    std::uint16_t d, dmin;
    std::uint8_t scales[12];
    std::uint8_t qs[kQKK / 2];
};
struct CWB_PACKED BlockQ5_K {
    std::uint16_t d, dmin;
    std::uint8_t scales[12];
    std::uint8_t qh[kQKK / 8];
    std::uint8_t qs[kQKK / 2];
};
// Q6_K: low 4 bits in ql, high 2 in qh, 16 int8 scales.
struct CWB_PACKED BlockQ6_K {
    std::uint8_t ql[kQKK / 2];
    std::uint8_t qh[kQKK / 4];
    std::int8_t scales[kQKK / 16];
    std::uint16_t d;
};
// Q8_K: the activations of the K formats' dot products; d is float32.
struct CWB_PACKED BlockQ8_K {
    float d;
    std::int8_t qs[kQKK];
    std::int16_t bsums[kQKK / 16];  // sums of each 16 codes
};

#undef CWB_PACKED

static_assert(sizeof(BlockQ4_0) == 18 && sizeof(BlockQ4_1) == 20 && sizeof(BlockQ5_0) == 22 &&
              sizeof(BlockQ5_1) == 24 && sizeof(BlockQ8_0) == 34 && sizeof(BlockQ8_1) == 36);
static_assert(sizeof(BlockQ2_K) == 84 && sizeof(BlockQ3_K) == 110 && sizeof(BlockQ4_K) == 144 &&
              sizeof(BlockQ5_K) == 176 && sizeof(BlockQ6_K) == 210 && sizeof(BlockQ8_K) == 292);

// The blocks of a packed row (blocks are packed: any address will do).
template <typename Block>
const Block* blocksOf(const std::byte* p) {
    return reinterpret_cast<const Block*>(p);
}
template <typename Block>
Block* blocksOf(std::byte* p) {
    return reinterpret_cast<Block*>(p);
}

}  // namespace cwb::quant
