// The values the workbench's schemes give a language model's matrix, stored in the smallest
// form that holds them exactly and that the forward pass reads: a 7B model's block matrices
// in float32 take 26 GB, more than such a machine has beside the checkpoint.
//  - Values on one step per row (alpha; a k-bit step per tensor or per output channel):
//    round(W'/step) fits in int8 and step * code == W' in float32 -> Q8_K blocks (float32 d =
//    the step, int8 codes: llama.cpp's layout, 9.1 bits per weight), decoded to the same floats;
//  - otherwise values that bf16 holds exactly (pruning alone on bf16 weights) -> BF16;
//  - otherwise float32.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/model/tensor.h"

namespace cwb {

struct CompactMatrix {
    Tensor values;             // [out, in] in Q8_K, BF16 or F32
    double maxAbsValue = 0.0;  // max |W'|, for the histograms' shared edges
};

// `kernel` is a float32 Dense kernel (in, out) as compressModel returns it; `steps` holds one
// step for the tensor, one per output channel, or is empty (not on a grid). The float32
// fallback needs `float32Reserve` (this matrix and those still to come, in float32) to fit
// in the available memory, else cwb::Error naming `name`, the need and the way out.
CompactMatrix compactMatrix(const Tensor& kernel, const std::vector<float>& steps,
                            const std::string& name, std::uint64_t float32Reserve, int threads);

}  // namespace cwb
