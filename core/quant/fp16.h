// IEEE half (fp16) and bfloat16 conversions, exact and branch-light. float -> half rounds to
// nearest even, as ggml's GGML_FP32_TO_FP16 and the F16C instruction vcvtps2ph do, so block
// scales written here carry the same bits as llama.cpp's.
#pragma once

#include <bit>
#include <cstdint>
#include <cstring>

namespace cwb {

inline float halfToFloat(std::uint16_t h) {
    const std::uint32_t sign = (h & 0x8000u) << 16;
    std::uint32_t exponent = (h >> 10) & 0x1f;
    std::uint32_t mantissa = h & 0x3ffu;
    std::uint32_t bits;
    if (exponent == 0x1f) {
        bits = sign | 0x7f800000u | (mantissa << 13);  // Inf or NaN
    } else if (exponent != 0) {
        bits = sign | ((exponent + 112) << 23) | (mantissa << 13);
    } else if (mantissa == 0) {
        bits = sign;
    } else {  // subnormal: renormalise
        exponent = 113;
        while (!(mantissa & 0x400u)) {
            mantissa <<= 1;
            --exponent;
        }
        bits = sign | (exponent << 23) | ((mantissa & 0x3ffu) << 13);
    }
    return std::bit_cast<float>(bits);
}

inline std::uint16_t floatToHalf(float f) {
    const std::uint32_t x = std::bit_cast<std::uint32_t>(f);
    const std::uint16_t sign = static_cast<std::uint16_t>((x >> 16) & 0x8000u);
    const std::uint32_t a = x & 0x7fffffffu;
    if (a > 0x7f800000u) return sign | 0x7e00u;  // NaN stays a (quiet) NaN
    const int e = static_cast<int>(a >> 23) - 127;
    if (e > 15) return sign | 0x7c00u;  // beyond the half range: infinity
    std::uint32_t mantissa = a & 0x7fffffu;
    if (e >= -14) {  // a normal half: keep 10 of 23 mantissa bits, round the other 13
        std::uint32_t h = (static_cast<std::uint32_t>(e + 15) << 10) | (mantissa >> 13);
        const std::uint32_t rest = mantissa & 0x1fffu;
        if (rest > 0x1000u || (rest == 0x1000u && (h & 1u))) ++h;  // a carry may reach Inf
        return static_cast<std::uint16_t>(sign | h);
    }
    if (e < -25) return sign;  // below half of the smallest subnormal: zero
    // A subnormal half counts units of 2^-24; the float is (1.m) * 2^e.
    mantissa |= 0x800000u;
    const int shift = -(e + 1);  // 14 .. 24
    std::uint32_t h = mantissa >> shift;
    const std::uint32_t rest = mantissa & ((1u << shift) - 1u);
    const std::uint32_t half = 1u << (shift - 1);
    if (rest > half || (rest == half && (h & 1u))) ++h;  // may become the smallest normal
    return static_cast<std::uint16_t>(sign | h);
}

inline float bf16ToFloat(std::uint16_t h) {
    return std::bit_cast<float>(static_cast<std::uint32_t>(h) << 16);
}

// Round to nearest even; NaN stays NaN.
inline std::uint16_t floatToBf16(float f) {
    const std::uint32_t x = std::bit_cast<std::uint32_t>(f);
    if ((x & 0x7fffffffu) > 0x7f800000u) return static_cast<std::uint16_t>((x >> 16) | 0x40u);
    return static_cast<std::uint16_t>((x + 0x7fffu + ((x >> 16) & 1u)) >> 16);
}

// Little-endian fields of packed blocks, at any alignment.
inline float loadHalf(const void* p) {
    std::uint16_t h;
    std::memcpy(&h, p, 2);
    return halfToFloat(h);
}

}  // namespace cwb
