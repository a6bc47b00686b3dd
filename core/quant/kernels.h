// The kernels behind the traits table (internal to core/quant): one decoder, reference
// quantizer and reference dot product per format, and the vector kernels of each ISA.
// n is always the number of values, a multiple of the block size.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>

namespace cwb::quant::detail {

// ggml's nearest_int: round half to even for |x| < 2^22, through the float mantissa (no
// undefined conversion for any input, and the same result as llama.cpp for every input).
inline int nearestInt(float x) {
    const float shifted = x + 12582912.f;
    std::int32_t bits;
    std::memcpy(&bits, &shifted, 4);
    return (bits & 0x007fffff) - 0x00400000;
}

// C's (int)x for x within int8's range, saturated outside it (NaN gives the low end): the
// reference quantizers' truncating casts without undefined behaviour on hostile values.
inline int truncToInt8Range(float x) {
    if (x >= -128.f && x < 128.f) return static_cast<int>(x);
    return x >= 128.f ? 127 : -128;
}
// roundf then the same saturation.
inline int roundToInt8Range(float x) { return truncToInt8Range(std::round(x)); }

// The value of largest magnitude, signed (the first one on ties), and its magnitude.
inline float signedAbsMax(const float* x, int n, float& amax) {
    float max = 0.f;
    amax = 0.f;
    for (int i = 0; i < n; ++i) {
        if (amax < std::fabs(x[i])) {
            amax = std::fabs(x[i]);
            max = x[i];
        }
    }
    return max;
}

#define CWB_QUANT_FORMAT_FUNCTIONS(T)                                     \
    void toFloat##T(const std::byte* blocks, float* out, std::int64_t n); \
    void fromFloat##T##Ref(const float* in, std::byte* blocks, std::int64_t n);
CWB_QUANT_FORMAT_FUNCTIONS(Q4_0)
CWB_QUANT_FORMAT_FUNCTIONS(Q4_1)
CWB_QUANT_FORMAT_FUNCTIONS(Q5_0)
CWB_QUANT_FORMAT_FUNCTIONS(Q5_1)
CWB_QUANT_FORMAT_FUNCTIONS(Q8_0)
CWB_QUANT_FORMAT_FUNCTIONS(Q8_1)
CWB_QUANT_FORMAT_FUNCTIONS(Q2_K)
CWB_QUANT_FORMAT_FUNCTIONS(Q3_K)
CWB_QUANT_FORMAT_FUNCTIONS(Q4_K)
CWB_QUANT_FORMAT_FUNCTIONS(Q5_K)
CWB_QUANT_FORMAT_FUNCTIONS(Q6_K)
CWB_QUANT_FORMAT_FUNCTIONS(Q8_K)
#undef CWB_QUANT_FORMAT_FUNCTIONS

// Dot products per ISA suffix (Ref, Avx2, Avx512); the Avx512 set covers the 32-value
// formats, the K formats use their AVX2 kernels there.
#define CWB_QUANT_DOTS(S)                                                     \
    float dotQ4_0##S(const std::byte* w, const std::byte* a, std::int64_t n); \
    float dotQ4_1##S(const std::byte* w, const std::byte* a, std::int64_t n); \
    float dotQ5_0##S(const std::byte* w, const std::byte* a, std::int64_t n); \
    float dotQ5_1##S(const std::byte* w, const std::byte* a, std::int64_t n); \
    float dotQ8_0##S(const std::byte* w, const std::byte* a, std::int64_t n);
CWB_QUANT_DOTS(Ref)
CWB_QUANT_DOTS(Avx2)
CWB_QUANT_DOTS(Avx512)
#undef CWB_QUANT_DOTS

// Vectorised activation quantizers (AVX2, used on AVX-512 machines too): the same bytes as
// fromFloatQ8_*Ref.
#define CWB_QUANT_ACTIVATIONS(S)                                              \
    void quantizeQ8_0##S(const float* in, std::byte* blocks, std::int64_t n); \
    void quantizeQ8_1##S(const float* in, std::byte* blocks, std::int64_t n); \
    void quantizeQ8_K##S(const float* in, std::byte* blocks, std::int64_t n);
CWB_QUANT_ACTIVATIONS(Avx2)
#undef CWB_QUANT_ACTIVATIONS

#define CWB_QUANT_K_DOTS(S)                                                   \
    float dotQ2_K##S(const std::byte* w, const std::byte* a, std::int64_t n); \
    float dotQ3_K##S(const std::byte* w, const std::byte* a, std::int64_t n); \
    float dotQ4_K##S(const std::byte* w, const std::byte* a, std::int64_t n); \
    float dotQ5_K##S(const std::byte* w, const std::byte* a, std::int64_t n); \
    float dotQ6_K##S(const std::byte* w, const std::byte* a, std::int64_t n);
CWB_QUANT_K_DOTS(Ref)
CWB_QUANT_K_DOTS(Avx2)
#undef CWB_QUANT_K_DOTS

// Float weight rows (F32, F16, BF16) against float32 activations.
#define CWB_QUANT_FLOAT_DOTS(S)                                              \
    float dotF32##S(const std::byte* w, const std::byte* a, std::int64_t n); \
    float dotF16##S(const std::byte* w, const std::byte* a, std::int64_t n); \
    float dotBF16##S(const std::byte* w, const std::byte* a, std::int64_t n);
CWB_QUANT_FLOAT_DOTS(Ref)
CWB_QUANT_FLOAT_DOTS(Avx2)
CWB_QUANT_FLOAT_DOTS(Avx512)
#undef CWB_QUANT_FLOAT_DOTS

}  // namespace cwb::quant::detail
