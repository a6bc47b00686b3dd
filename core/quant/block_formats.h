// llama.cpp's block formats as a traits table, after ggml's type traits: one row per block
// dtype with its size, an exact row decoder, the reference quantizer (llama.cpp's
// quantize_row_*_ref rules, no importance matrix), the Q8 activation format its dot product
// takes, and that dot product on packed blocks: a plain C++ reference and vector kernels
// (AVX2, AVX-512 VNNI) chosen at run time, so one build runs on any x86-64.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>

#include "core/model/dtype.h"

namespace cwb::quant {

// The kernel families; Avx512 means AVX-512 F/BW/VL with VNNI.
enum class Isa { Scalar, Avx2, Avx512 };
constexpr int kIsaCount = 3;

bool isaSupported(Isa isa);  // by this CPU
Isa bestIsa();               // the widest supported
std::string isaName(Isa isa);
// The family the dispatching entry points (vecDot, matmulPacked, quantizeActivationRow) use;
// bestIsa() unless set. Tests and benchmarks force each path; throws cwb::Error if this CPU
// lacks it. Process-wide.
Isa activeIsa();
void setActiveIsa(Isa isa);

// n is the number of values; a multiple of the block size.
using ToFloatFn = void (*)(const std::byte* blocks, float* out, std::int64_t n);
using FromFloatFn = void (*)(const float* in, std::byte* blocks, std::int64_t n);
// Sum over n values of (decoded - value)^2 in double, the blocks not written.
using SquaredErrorFn = double (*)(const float* in, std::int64_t n);
// Dot product of a weight row with an activation row in the format's dotType.
using VecDotFn = float (*)(const std::byte* weights, const std::byte* activations, std::int64_t n);

struct BlockFormat {
    DType type;
    int blockSize;   // values per block
    int blockBytes;  // bytes per block
    DType dotType;   // Q8_0 (Q4_0, Q5_0, Q8_0), Q8_1 (Q4_1, Q5_1), Q8_K (the K formats)
    // Exact: the float32 values llama.cpp's dequantize_row_* computes, bit for bit.
    ToFloatFn toFloat;
    // llama.cpp's quantize_row_*_ref; fp16 scales rounded to nearest even.
    FromFloatFn fromFloatRef;
    // The same bytes as fromFloatRef, per Isa (vectorised for every format on AVX2; AVX-512
    // machines run the AVX2 encoders). Always set.
    std::array<FromFloatFn, kIsaCount> fromFloat;
    // The error of fromFloatRef then toFloat, per Isa: [Scalar] runs exactly that, the
    // vector kernels compute the same codes and scales without writing blocks (only the
    // order of the double additions differs). Always set.
    std::array<SquaredErrorFn, kIsaCount> squaredError;
    // Per Isa, [Scalar] is the reference. All nullptr for Q8_1 and Q8_K, which are
    // activation formats only. A family this build has no kernel for holds the next one down.
    std::array<VecDotFn, kIsaCount> vecDot;
};

// The row of a block dtype; throws cwb::Error for a plain dtype.
const BlockFormat& blockFormat(DType type);

}  // namespace cwb::quant
