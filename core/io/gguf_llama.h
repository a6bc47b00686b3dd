// Llama checkpoints in GGUF: the config from the llama.* metadata, the weights by their
// llama.cpp names (token_embd, blk.N.attn_q, ..., output) as views into the file in their
// own dtype, and the SentencePiece-style vocabulary GGUF embeds (tokenizer.ggml.*).
#pragma once

#include <memory>
#include <string>

#include "core/llm/llama_weights.h"
#include "core/model/tensor.h"

namespace cwb {

// A checkpoint from GGUF bytes held in `storage` (a mapped file, or memory for the fuzzer).
// Throws cwb::Error "<where>: ..." for another architecture, an unsupported tensor type or
// tokenizer, a shape that does not match the config, or a damaged file.
LlamaCheckpoint readGgufCheckpoint(std::shared_ptr<Storage> storage, const std::string& where);

// Maps the file and reads it.
LlamaCheckpoint openGgufCheckpoint(const std::string& path);

}  // namespace cwb
