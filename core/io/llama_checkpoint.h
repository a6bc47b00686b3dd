// The front door for language-model checkpoints: the reader registry (reader_registry.h)
// picks the reader by what the path is and what the file holds, not by its name alone.
#pragma once

#include <string>

#include "core/llm/llama_weights.h"

namespace cwb {

// Opens a Llama checkpoint: a Hugging Face folder (or its config.json, index or any shard),
// a GGUF file (by its magic), or a llama2.c .bin (by a plausible header). A llama2.c
// checkpoint's vocabulary comes from `llama2cTokenizer` when given, else from
// findLlama2cTokenizer (left empty when there is none). Throws cwb::Error "<path>: ..." with
// one line otherwise.
LlamaCheckpoint openLlamaCheckpoint(const std::string& path,
                                    const std::string& llama2cTokenizer = {});

// Whether a checkpoint reader of the registry takes `path` (a Hugging Face folder or one of its
// files, a GGUF file, a llama2.c .bin) rather than a network reader; a .safetensors file
// without config.json beside it is a network's. Never throws.
bool isLlamaCheckpointPath(const std::string& path);

// The llama2.c tokenizer for a checkpoint: tokenizer.bin beside it, else the only tok*.bin
// beside it (llama2.c's tok512.bin, tok4096.bin); empty when there is none.
std::string findLlama2cTokenizer(const std::string& checkpointPath);

}  // namespace cwb
