// Which role each named tensor of a checkpoint plays, whatever the file called it
// ("model.layers.3.mlp.down_proj.weight" and "blk.3.ffn_down.weight" are both the down
// projection of block 3), found by which tensor of LlamaWeights views the same bytes. The
// tensor browser groups and the compression of one tensor decides by it.
#pragma once

#include <string>
#include <vector>

#include "core/llm/llama_weights.h"
#include "core/llm/llm_compress.h"

namespace cwb {

enum class LlamaTensorKind {
    Embedding,  // token_embd
    Output,     // output (untied)
    Norm,       // attn_norm, ffn_norm, output_norm
    AttnQ,
    AttnK,
    AttnV,
    AttnOutput,
    FfnGate,
    FfnUp,
    FfnDown,
    Other  // a tensor the model does not use (rotary tables some files carry)
};

struct LlamaTensorRole {
    std::string fileName;   // as the file names it
    std::string llamaName;  // llama.cpp's: "blk.3.ffn_down.weight" (as compressLlama reports)
    int layer = -1;         // the block; -1 outside the blocks
    LlamaTensorKind kind = LlamaTensorKind::Other;
    const Tensor* tensor = nullptr;  // into the checkpoint's `tensors`
};

// "attention q", "MLP down", "embedding", "norm", ... for grouping and labels.
std::string llamaTensorKindName(LlamaTensorKind kind);
// The seven projection matrices of a block.
bool isBlockMatrix(LlamaTensorKind kind);

// One role per entry of checkpoint.tensors, in file order. The result points into
// `checkpoint`, which must outlive it.
std::vector<LlamaTensorRole> llamaTensorRoles(const LlamaCheckpoint& checkpoint);

// Whether `compression` changes the tensor: the block matrices under any change, the embedding
// and an untied output under a block format with LlmScope::All; never norms.
bool compressionApplies(const LlamaTensorRole& role, const LlmCompression& compression);

}  // namespace cwb
