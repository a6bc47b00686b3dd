// Hugging Face Llama and Mistral checkpoint folders: config.json, and the weights in
// model.safetensors or in shards listed by model.safetensors.index.json. Every shard is
// memory-mapped; tensors stay views in their own dtype (F32, F16 or BF16).
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "core/llm/llama_weights.h"
#include "core/model/tensor.h"

namespace cwb {

// config.json's text as a LlamaConfig (LlamaForCausalLM or MistralForCausalLM). Throws
// cwb::Error "<where>: ..." for another architecture, a missing or malformed field, or a
// feature the forward pass does not have (biases, scaled RoPE).
LlamaConfig parseHfLlamaConfig(std::string_view json, const std::string& where);

// The bytes of one weights file of the folder by its file name, or nullptr when it is absent.
using HfShardOpener = std::function<std::shared_ptr<Storage>(const std::string& fileName)>;

// A checkpoint from a folder's texts and its weights files: with `index`, the shards it
// names; without, model.safetensors. `folder` is used in messages and file names only.
LlamaCheckpoint readHfCheckpoint(const std::string& folder, std::string_view config,
                                 std::optional<std::string_view> index,
                                 const HfShardOpener& openShard);

// The folder of a checkpoint given as the folder itself, its config.json, its index or any
// of its .safetensors files; throws cwb::Error when `path` is none of those.
std::string hfCheckpointFolder(const std::string& path);

// Opens the checkpoint at `path` (see hfCheckpointFolder), mapping every shard. Records
// tokenizer.model's path when the folder has one.
LlamaCheckpoint openHfCheckpoint(const std::string& path);

}  // namespace cwb
