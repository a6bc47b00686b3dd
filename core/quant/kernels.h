// The kernels behind the traits table (internal to core/quant): one decoder, reference
// quantizer and reference dot product per format, and the vector kernels of each ISA.
// n is always the number of values, a multiple of the block size.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "core/model/dtype.h"

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

// The formats by family, as X-macro lists: X(format, suffix) for each.
#define CWB_QUANT_LEGACY_FORMATS(X, S) X(Q4_0, S) X(Q4_1, S) X(Q5_0, S) X(Q5_1, S) X(Q8_0, S)
#define CWB_QUANT_K_FORMATS(X, S) X(Q2_K, S) X(Q3_K, S) X(Q4_K, S) X(Q5_K, S) X(Q6_K, S)
#define CWB_QUANT_FLOAT_FORMATS(X, S) X(F32, S) X(F16, S) X(BF16, S)

// One decoder and one reference encoder per block format (the activation formats included).
#define CWB_QUANT_FORMAT_FUNCTIONS(T, S)                                  \
    void toFloat##T(const std::byte* blocks, float* out, std::int64_t n); \
    void fromFloat##T##Ref(const float* in, std::byte* blocks, std::int64_t n);
CWB_QUANT_LEGACY_FORMATS(CWB_QUANT_FORMAT_FUNCTIONS, )
CWB_QUANT_K_FORMATS(CWB_QUANT_FORMAT_FUNCTIONS, )
CWB_QUANT_FORMAT_FUNCTIONS(Q8_1, )
CWB_QUANT_FORMAT_FUNCTIONS(Q8_K, )

// Dot products of a weight row with an activation row per ISA suffix (Ref, Avx2, Avx512):
// the Avx512 set covers Q4_1, Q5_0, Q5_1 and the float formats; the others use their AVX2
// kernels there (block_formats.cpp says why). Float weight rows (F32, F16, BF16) go against
// float32 activations.
#define CWB_QUANT_DOT(T, S) float dot##T##S(const std::byte* w, const std::byte* a, std::int64_t n);
CWB_QUANT_LEGACY_FORMATS(CWB_QUANT_DOT, Ref)
CWB_QUANT_LEGACY_FORMATS(CWB_QUANT_DOT, Avx2)
CWB_QUANT_DOT(Q4_1, Avx512)
CWB_QUANT_DOT(Q5_0, Avx512)
CWB_QUANT_DOT(Q5_1, Avx512)
CWB_QUANT_K_FORMATS(CWB_QUANT_DOT, Ref)
CWB_QUANT_K_FORMATS(CWB_QUANT_DOT, Avx2)
CWB_QUANT_FLOAT_FORMATS(CWB_QUANT_DOT, Ref)
CWB_QUANT_FLOAT_FORMATS(CWB_QUANT_DOT, Avx2)
CWB_QUANT_FLOAT_FORMATS(CWB_QUANT_DOT, Avx512)

// Vectorised activation quantizers (AVX2, used on AVX-512 machines too): the same bytes as
// fromFloatQ8_*Ref.
#define CWB_QUANT_ACTIVATION(T, S) \
    void quantize##T##S(const float* in, std::byte* blocks, std::int64_t n);
CWB_QUANT_ACTIVATION(Q8_0, Avx2)
CWB_QUANT_ACTIVATION(Q8_1, Avx2)
CWB_QUANT_ACTIVATION(Q8_K, Avx2)

// Vector encoders of the weight formats (AVX2, used on AVX-512 machines too): the same bytes
// as fromFloat*Ref (Q8_0's is its activation quantizer).
#define CWB_QUANT_ENCODER(T, S) \
    void fromFloat##T##S(const float* in, std::byte* blocks, std::int64_t n);
CWB_QUANT_ENCODER(Q4_0, Avx2)
CWB_QUANT_ENCODER(Q4_1, Avx2)
CWB_QUANT_ENCODER(Q5_0, Avx2)
CWB_QUANT_ENCODER(Q5_1, Avx2)
CWB_QUANT_K_FORMATS(CWB_QUANT_ENCODER, Avx2)

// The squared error n values take in a weight format, without writing blocks (AVX2): the
// reference's codes and scales, each difference and square in double.
#define CWB_QUANT_ERROR(T, S) double squaredError##T##S(const float* in, std::int64_t n);
CWB_QUANT_LEGACY_FORMATS(CWB_QUANT_ERROR, Avx2)
CWB_QUANT_K_FORMATS(CWB_QUANT_ERROR, Avx2)

// squaredError*Avx2 of several 32-value formats (Q4_0, Q4_1, Q5_0, Q5_1, Q8_0) on the same n
// values in one pass: errors[k] for types[k], each equal to its own kernel's bit for bit.
void squaredErrorsLegacyAvx2(const float* in, std::int64_t n, const DType* types, int count,
                             double* errors);
// The same figures with AVX-512, bit for bit (legacy_error_avx512.cpp).
CWB_QUANT_LEGACY_FORMATS(CWB_QUANT_ERROR, Avx512)
void squaredErrorsLegacyAvx512(const float* in, std::int64_t n, const DType* types, int count,
                               double* errors);

double sumOfSquaresAvx2(const float* in, std::int64_t n, float& min, float& max);
// F16 or BF16 values to float32 (exact).
void halfRowToFloatAvx2(bool bf16, const std::byte* row, float* out, std::int64_t n);
// The same, returning sumOfSquaresAvx2's figures of the values.
double halfRowSquaresAvx2(bool bf16, const std::byte* row, float* out, std::int64_t n, float& min,
                          float& max, bool extremes);

#undef CWB_QUANT_ERROR
#undef CWB_QUANT_ENCODER
#undef CWB_QUANT_ACTIVATION
#undef CWB_QUANT_DOT
#undef CWB_QUANT_FORMAT_FUNCTIONS
#undef CWB_QUANT_FLOAT_FORMATS
#undef CWB_QUANT_K_FORMATS
#undef CWB_QUANT_LEGACY_FORMATS

}  // namespace cwb::quant::detail
