// llama2.c checkpoints (Karpathy's run.c, legacy version 0): seven int32 (dim, hidden_dim,
// n_layers, n_heads, n_kv_heads, vocab_size, seq_len; a negative vocab_size means an
// unshared classifier) and then float32 arrays in a fixed order. Each layer's matrix is a
// view into the mapping. The tokenizer is a separate file (tokenizer.bin, read elsewhere).
#pragma once

#include <memory>
#include <string>

#include "core/llm/llama_weights.h"
#include "core/model/tensor.h"

namespace cwb {

// Whether `bytes` start with a plausible llama2.c header whose sizes add up to exactly the
// file's size: how a .bin is told from other files without trusting its name.
bool isLlama2cCheckpoint(const Storage& bytes);

// A checkpoint from the file's bytes. Throws cwb::Error "<where>: ..." when the header is not
// plausible or does not match the file's size. The vocabulary is left empty: it comes from
// the separate tokenizer file (openLlamaCheckpoint reads it).
LlamaCheckpoint readLlama2cCheckpoint(std::shared_ptr<Storage> storage, const std::string& where);

// Maps the file and reads it.
LlamaCheckpoint openLlama2cCheckpoint(const std::string& path);

}  // namespace cwb
