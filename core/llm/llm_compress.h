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

enum class LlmScope {
    Blocks,  // the seven projection matrices of every block
    All      // every 2-D tensor: the block matrices, token_embd and output (--pure)
};

struct LlmCompression {
    // The workbench's schemes; the default changes nothing.
    LayerSettings settings;
    // A llama.cpp block format instead (then `settings` must change nothing).
    std::optional<DType> format;
    LlmScope scope = LlmScope::Blocks;  // for `format`; the workbench's schemes use Blocks
};

struct LlmCompressOptions {
    int threads = 0;  // 0 = all cores
    StatsOptions stats;
};

struct LlmTensorReport {
    std::string name;  // llama.cpp's: "blk.0.attn_q.weight", "token_embd.weight", "output.weight"
    Shape shape;       // [out, in]
    DType original = DType::F32, stored = DType::F32;
    double bitsPerWeight = 0.0;  // as stored (block bytes, or the workbench's encoded size)
    TensorStats stats;           // SQNR, sparsity, histograms of original, compressed and error
};

struct LlmCompressionResult {
    LlamaWeights weights;
    std::vector<LlmTensorReport> tensors;  // the compressed tensors, in model order
    TensorStats total;                     // all of them together (histograms share edges)
    double bitsPerWeight = 0.0;            // over the compressed tensors
    double seconds = 0.0;
};

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
