// Block quantization types, llama.cpp style: a type is a row of a traits table (block size,
// code bits, how the scale is stored), with a plain reference kernel beside each fast one.
// Blocks run along the input (reduction) axis of a kernel seen as a (K, out) matrix.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace cwb {

enum class ScaleEncoding { F32, F16 };

// Quantizes one block of `n` weights in place (fake quantization: the values become the
// dequantized codes) and writes the codes; returns the block's step (scale).
using BlockQuantizeFn = float (*)(const float* in, float* out, std::int8_t* codes, int n);

struct QuantTypeTraits {
    const char* name;         // "q8_0", "q4_0", ...
    int blockSize;            // weights per block
    int bits;                 // code bits per weight
    ScaleEncoding scale;      // how each block's step is stored
    bool symmetric;
    BlockQuantizeFn quantizeRef;   // plain scalar reference
    BlockQuantizeFn quantize;      // fast kernel; must equal quantizeRef bit for bit

    // Bytes for `weights` weights (a multiple of blockSize): codes plus scales.
    long long encodedBytes(long long weights) const;
};

std::span<const QuantTypeTraits> quantTypes();
// nullptr for an unknown name.
const QuantTypeTraits* findQuantType(const std::string& name);

}  // namespace cwb
