// Random-weight Llama checkpoints of real shapes (`cwb synth`), written as a Hugging Face
// folder (config.json, bf16 safetensors sharded like save_pretrained, the index, a tokenizer)
// for speed and scale tests: the shapes are real, the weights are noise.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/llm/llama_config.h"
#include "core/util/progress.h"

namespace cwb {

// "tinyllama" (TinyLlama-1.1B's shape), "llama7b" (Llama-2-7B's), "small" (kjv-llama-6m's).
std::vector<std::string> syntheticShapeNames();
// Throws cwb::Error naming the known shapes for an unknown name.
LlamaConfig syntheticShape(const std::string& name);

struct SyntheticCheckpointOptions {
    std::uint64_t seed = 1;
    std::uint64_t shardBytes = 2'000'000'000;  // as save_pretrained's max_shard_size="2GB"
    std::string tokenizerModel;                // copied in as tokenizer.model when not empty
};

// Bytes of bf16 weights the checkpoint holds.
std::uint64_t syntheticCheckpointBytes(const LlamaConfig& config);

// Writes the folder `dir`, which must not exist (a user's folder is never written into):
// everything goes to a sibling temporary folder renamed at the end. Progress counts bytes.
void writeSyntheticCheckpoint(const LlamaConfig& config, const std::string& dir,
                              const SyntheticCheckpointOptions& options, const Progress& progress);

}  // namespace cwb
