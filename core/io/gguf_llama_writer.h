// A Llama model as a GGUF file that llama.cpp loads: the llama.* hyperparameters, the
// SentencePiece vocabulary (tokenizer.ggml.*), and the weights under llama.cpp's tensor names
// in their own dtypes (block formats stay packed; norms are written as F32), with q/k rows
// in llama.cpp's RoPE layout (adjacent pairs).
#pragma once

#include <optional>
#include <string>

#include "core/llm/llama_config.h"
#include "core/llm/llama_weights.h"
#include "core/llm/vocabulary.h"

namespace cwb {

struct GgufLlamaOutput {
    std::string name;               // general.name; empty: none
    std::optional<DType> fileType;  // general.file_type's format; default: the q matrices'
    std::string protectedSource;    // a file the output must not replace (the input)
};

// llama.cpp's general.file_type (llama_ftype) for a model mostly in `type`; a pure Q4_K or
// Q5_K file is its _M variant, Q3_K its _M (llama-quantize's names for those mixes).
std::uint32_t llamaFileType(DType type);

// Writes the model atomically. A vocabulary with fewer pieces than the model has token rows
// is padded with unused pieces "[PADn]" (as convert_hf_to_gguf.py pads it). Throws
// cwb::Error for an empty vocabulary, one with more pieces than the model has rows, a dtype GGUF
// cannot hold, or a failed write.
void writeLlamaGguf(const std::string& path, const LlamaConfig& config, const LlamaWeights& weights,
                    const Vocabulary& vocabulary, const GgufLlamaOutput& output = {});

}  // namespace cwb
