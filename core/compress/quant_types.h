// Block quantization types, llama.cpp style: a type is a row of a traits table (block size,
// code bits, scheme, how each block's step is stored), with a plain scalar *Ref kernel
// beside each fast kernel. Blocks run along the input (reduction) axis. The rows cover every
// group setting of QuantSettings (2..8 bits, groups of 32/64/128, symmetric or asymmetric,
// float32 steps); the fused pass quantizes groups with the same arithmetic, and tests hold
// the two to the same bits.
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "core/compress/compression_settings.h"

namespace cwb {

enum class ScaleEncoding { F32 };

// Quantizes one block of n weights: writes the dequantized values (out) and the codes minus
// the zero point (codes), returns the block's step.
using BlockQuantizeFn = float (*)(const float* in, float* out, std::int32_t* codes, int n);

struct QuantTypeTraits {
    const char* name;  // "q4s_g32": 4 bits, symmetric, blocks of 32
    int blockSize;
    int bits;
    bool symmetric;
    ScaleEncoding scale;
    BlockQuantizeFn quantizeRef;  // plain scalar reference
    BlockQuantizeFn
        quantize;  // fast kernel (AVX-512 where built for it); same bits as the reference

    // Bytes of `weights` weights stored as packed codes plus one step (and zero point) per block.
    long long encodedBytes(long long weights) const;
};

std::span<const QuantTypeTraits> quantTypes();
const QuantTypeTraits* findQuantType(const std::string& name);  // nullptr if unknown
// The row of a group setting (granularity Group, bits 2..8), or nullptr.
const QuantTypeTraits* quantTypeFor(const QuantSettings& settings);

}  // namespace cwb
