// The whole-model table of a language model: every 2-D tensor under each of several schemes
// (llama.cpp block formats, and the workbench's own alpha and rho), with the SQNR, bits per
// weight and bytes each would give. One pass over a tensor's rows serves every scheme (each
// row is decoded once and measured under each), so the table reads the checkpoint's bytes
// once.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "core/compress/compression_settings.h"
#include "core/model/tensor.h"
#include "core/util/progress.h"

namespace cwb {

class Backend;

struct LlmSchemeCell {
    double sqnrDb = 0.0;  // 10 log10(sum W^2 / sum (W' - W)^2); +inf when exact
    double bitsPerWeight = 0.0;
    std::uint64_t bytes = 0;
};

// A column: a llama.cpp block format, or else the workbench's settings as compressLlmTensor
// applies them to a block matrix (one Dense kernel).
struct LlmScheme {
    std::optional<DType> format;
    LayerSettings settings;
};

// The matrix [out, in] `tensor` under each scheme, compared with its values: one cell per
// scheme, in order. Each row is decoded once; the block formats' error kernels
// (quant::quantizationErrors: the reference's codes and scales, no block written; the
// 32-value formats in one shared pass) and the uniform step and threshold
// (quant::addStepError: the fused pass's values) run on it, and their sizes are the
// format's bytes or compressModel's encoded size. Other workbench settings (k-bit codes,
// sparsity targets, N:M) go through compressLlmTensor on the whole tensor. Rows go in fixed
// chunks whose sums merge in order, so the figures do not depend on the thread count. A
// mapped tensor's rows are read with pread a chunk at a time (tensorBytes), and what other
// settings map leaves the resident set after it (releaseResident), so a pass over a whole
// checkpoint holds one tensor at most. Throws cwb::Error for a format that is not a llama.cpp
// weight format or rows that are not whole blocks of it; Cancelled when `progress` asks to
// stop (checked after every chunk of rows).
// The row pass is `backend`'s job (Backend::measureSchemeRows; null: the CPU's, above): a GPU
// uploads the stored rows once and gives the same block codes, so the same figures to the
// summation order (relative 1e-6).
std::vector<LlmSchemeCell> measureSchemes(const Tensor& tensor,
                                          const std::vector<LlmScheme>& schemes, int threads,
                                          const Progress& progress = {},
                                          Backend* backend = nullptr);
// Block formats only.
std::vector<LlmSchemeCell> measureSchemes(const Tensor& tensor, const std::vector<DType>& formats,
                                          int threads, const Progress& progress = {},
                                          Backend* backend = nullptr);

}  // namespace cwb
