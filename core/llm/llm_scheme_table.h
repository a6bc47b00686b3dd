// The whole-model table of a language model: every 2-D tensor under each of several llama.cpp
// block formats, with the SQNR, bits per weight and bytes each would give. One pass over a
// tensor's rows serves every format (each row is decoded once and quantized to each), so the
// table reads the checkpoint's bytes once.
#pragma once

#include <cstdint>
#include <vector>

#include "core/model/tensor.h"
#include "core/util/progress.h"

namespace cwb {

struct LlmSchemeCell {
    double sqnrDb = 0.0;  // 10 log10(sum W^2 / sum (W' - W)^2); +inf when exact
    double bitsPerWeight = 0.0;
    std::uint64_t bytes = 0;
};

// The matrix [out, in] `tensor` quantized to each of `formats` by the reference rules and
// compared with its values: one cell per format, in order. Each row is decoded once and each
// format's error kernel (quant::quantizationError: the reference's codes and scales, no block
// written) runs on it. Rows go in fixed chunks whose sums merge in order, so the figures do
// not depend on the thread count. A mapped tensor's pages leave the resident set after it
// (releaseResident), so a pass over a whole checkpoint holds one tensor. Throws cwb::Error
// for a format that is not a llama.cpp weight format or rows that are not whole blocks of it;
// Cancelled when `progress` asks to stop (checked after every chunk of rows).
std::vector<LlmSchemeCell> measureSchemes(const Tensor& tensor, const std::vector<DType>& formats,
                                          int threads, const Progress& progress = {});

}  // namespace cwb
