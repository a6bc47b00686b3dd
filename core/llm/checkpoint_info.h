// What `cwb info` shows for a language-model checkpoint, as plain data: the architecture,
// every tensor with its shape, dtype and bytes, and totals per dtype and overall.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/llm/llama_weights.h"

namespace cwb {

struct CheckpointTensorRow {
    std::string name;
    Shape shape;
    DType dtype = DType::F32;
    std::uint64_t elements = 0;
    std::uint64_t bytes = 0;
};

struct CheckpointDTypeTotal {
    DType dtype = DType::F32;
    int tensors = 0;
    std::uint64_t elements = 0;
    std::uint64_t bytes = 0;
};

struct CheckpointInfo {
    std::string path;
    std::string format;        // "GGUF v3", "Hugging Face safetensors", "llama2.c"
    std::string architecture;  // "llama", "mistral"
    LlamaConfig config;
    int vocabularyPieces = 0;  // 0 when the tokenizer is a separate file
    std::string tokenizerModelPath;
    std::vector<CheckpointTensorRow> tensors;   // in file order
    std::vector<CheckpointDTypeTotal> byDType;  // in order of first appearance
    std::uint64_t elements = 0;
    std::uint64_t bytes = 0;
    double bitsPerWeight = 0;  // over every tensor
};

CheckpointInfo describeCheckpoint(const LlamaCheckpoint& checkpoint);

}  // namespace cwb
