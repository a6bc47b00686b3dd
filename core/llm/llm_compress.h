// Compression of a Llama model's weights, with the statistics the window shows per tensor.
//
// Two kinds of scheme:
//  - the workbench's own (alpha and rho, k-bit, N:M ...: a LayerSettings, exactly as for a
//    Keras Dense kernel, through compressModel) on the seven projection matrices of every block
//    (q, k, v, o, gate, up, down); embeddings, output and norms stay as they are;
//  - a llama.cpp block format (Q8_0 ... Q6_K) quantized by the reference quantizers, on the
//    block matrices only or on every 2-D tensor (llama-quantize --pure: token_embd and output
//    too; norms stay float).
// The result is a LlamaWeights that the forward pass runs as it is: compressed tensors in
// owned storage (float32 for the workbench's schemes, packed blocks for a block format), the
// rest shared with the original.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/compress/compression_settings.h"
#include "core/llm/llama_config.h"
#include "core/llm/llama_weights.h"
#include "core/stats/weight_stats.h"
#include "core/util/progress.h"

namespace cwb {

struct LlmCompression {
    // The workbench's schemes; the default changes nothing.
    LayerSettings settings;
    // A llama.cpp block format instead (then `settings` must change nothing).
    std::optional<DType> format;
    LlmScope scope = LlmScope::Blocks;  // for `format`; the workbench's schemes use Blocks
};

class Backend;

struct LlmCompressOptions {
    int threads = 0;  // 0 = all cores
    StatsOptions stats;
    // Where a block format's quantization and first figures run (Backend::runBlockPass; the
    // same bytes and figures); null: the CPU, row by row without a float32 copy.
    Backend* backend = nullptr;
};

struct LlmTensorReport {
    std::string name;  // llama.cpp's: "blk.0.attn_q.weight", "token_embd.weight", "output.weight"
    Shape shape;       // [out, in]
    DType original = DType::F32, stored = DType::F32;
    double bitsPerWeight = 0.0;  // as stored (block bytes, or the workbench's encoded size)
    TensorStats stats;           // SQNR, sparsity, histograms of original, compressed and error
    // compressLlmTensor only: the rows measured (fewer than shape[0] for a sampled preview),
    // and for a block format the distinct values of the 32 weights (one block, or a K
    // format's sub-blocks) around the largest |W|: the levels its scales give the codes used.
    std::int64_t rowsMeasured = 0;
    std::vector<float> blockLevels;
};

struct LlmCompressionResult {
    LlamaWeights weights;
    std::vector<LlmTensorReport> tensors;  // the compressed tensors, in model order
    TensorStats total;                     // all of them together (histograms share edges)
    double bitsPerWeight = 0.0;            // over the compressed tensors
    double seconds = 0.0;
};

struct LlmTensorOptions {
    int threads = 0;  // 0 = all cores
    // Explicit histogram specs put the tensor on the caller's edges (then its counts equal
    // compressLlama's for the same specs); automatic ones fit this tensor alone.
    StatsOptions stats;
    // > 0: measure at most this many rows, evenly spaced (a preview while a slider moves).
    std::int64_t sampleRows = 0;
    // Where a block format's quantization and figures run, as LlmCompressOptions::backend.
    Backend* backend = nullptr;
};

// One 2-D tensor [out, in] of a checkpoint under `compression`, with the figures
// compressLlama reports for it: the workbench's schemes as one Dense kernel through
// compressModel, a block format by its reference quantizer. The scope is the caller's choice
// (llama_tensor_roles.h: compressionApplies); a compression that changes nothing reports the
// tensor as stored. Throws cwb::Error as compressLlama does; Cancelled when asked to stop.
LlmTensorReport compressLlmTensor(const std::string& name, const Tensor& tensor,
                                  const LlmCompression& compression,
                                  const LlmTensorOptions& options = {},
                                  const Progress& progress = {});

// llama.cpp's name of a tensor by role ("attn_q", "ffn_down", ...); layer < 0 for the
// tensors outside the blocks ("token_embd", "output", "output_norm").
std::string llamaTensorName(const std::string& role, int layer = -1);

// Throws cwb::Error for invalid settings, a format that is not a llama.cpp weight format, or
// a row length that is not a whole number of the format's blocks; Cancelled when asked to stop.
LlmCompressionResult compressLlama(const LlamaConfig& config, const LlamaWeights& weights,
                                   const LlmCompression& compression,
                                   const LlmCompressOptions& options = {},
                                   const Progress& progress = {});

}  // namespace cwb
