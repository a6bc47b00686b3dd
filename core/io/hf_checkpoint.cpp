// Hugging Face checkpoint folders (see hf_checkpoint.h). Field names and defaults are
// transformers' LlamaConfig and MistralConfig.
#include "core/io/hf_checkpoint.h"

#include <filesystem>
#include <limits>
#include <map>
#include <set>
#include <unordered_map>

#include "core/error.h"
#include "core/io/file_bytes.h"
#include "core/io/llama_roles.h"
#include "core/io/safetensors.h"
#include "core/util/json_guard.h"
#include "core/util/mapped_file.h"

namespace cwb {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr const char* kConfig = "config.json";
constexpr const char* kIndex = "model.safetensors.index.json";
constexpr const char* kSingle = "model.safetensors";
constexpr std::uint64_t kMaxJsonBytes = 64 << 20;  // indexes of the largest models are ~100 KB

const json* field(const json& j, const char* key) {
    const auto it = j.find(key);
    return it == j.end() || it->is_null() ? nullptr : &*it;
}

int intField(const json& j, const char* key, std::optional<int> fallback,
             const std::string& where) {
    const json* v = field(j, key);
    if (!v) {
        if (fallback) return *fallback;
        throw Error(where + ": '" + key + "' is missing");
    }
    if (!v->is_number_integer() ||
        (v->is_number_unsigned()
             ? v->get<std::uint64_t>() > std::uint64_t(INT32_MAX)
             : v->get<std::int64_t>() < 0 || v->get<std::int64_t>() > INT32_MAX))
        throw Error(where + ": '" + key + "' must be a non-negative integer, got " + v->dump());
    return v->get<int>();
}

double numberField(const json& j, const char* key, double fallback, const std::string& where) {
    const json* v = field(j, key);
    if (!v) return fallback;
    if (!v->is_number()) throw Error(where + ": '" + key + "' must be a number, got " + v->dump());
    return v->get<double>();
}

bool boolField(const json& j, const char* key, bool fallback, const std::string& where) {
    const json* v = field(j, key);
    if (!v) return fallback;
    if (!v->is_boolean()) throw Error(where + ": '" + key + "' must be true or false");
    return v->get<bool>();
}

// RoPE as transformers 5 writes it (rope_parameters) or older versions (rope_theta,
// rope_scaling). Only plain RoPE is computed; scaled variants are refused.
float ropeTheta(const json& config, const std::string& where) {
    double theta = numberField(config, "rope_theta", 10000.0, where);
    for (const char* key : {"rope_parameters", "rope_scaling"}) {
        const json* p = field(config, key);
        if (!p) continue;
        if (!p->is_object()) throw Error(where + ": '" + key + "' must be an object");
        for (const char* typeKey : {"rope_type", "type"}) {
            const json* type = field(*p, typeKey);
            if (type && (!type->is_string() || type->get<std::string>() != "default"))
                throw Error(where + ": RoPE scaling " + type->dump() + " is not supported");
        }
        theta = numberField(*p, "rope_theta", theta, where);
    }
    return toFloatSaturated(theta);
}

// A shard's file name as the index gives it: a plain name inside the folder.
void checkShardName(const std::string& name, const std::string& where) {
    if (name.empty() || name == "." || name == ".." ||
        name.find_first_of("/\\") != std::string::npos || name.find('\0') != std::string::npos)
        throw Error(where + ": shard name " + json(name).dump() +
                    " is not a file name inside the folder");
}

std::string readSmallText(const std::string& path) {
    const std::uint64_t size = regularFileSize(path);
    if (size > kMaxJsonBytes)
        throw Error(path + ": " + std::to_string(size >> 20) + " MiB is far too large for " +
                    fs::path(path).filename().string() + "; the file is corrupt");
    return readFilePrefix(path, static_cast<std::size_t>(size));
}

}  // namespace

LlamaConfig parseHfLlamaConfig(std::string_view text, const std::string& where) {
    const json config = parseJsonGuarded(text, where, 16);
    if (!config.is_object()) throw Error(where + ": is not a JSON object");

    LlamaConfig c;
    std::string found;
    if (const json* archs = field(config, "architectures")) {
        if (!archs->is_array()) throw Error(where + ": 'architectures' must be a list");
        for (const json& a : *archs) {
            if (!a.is_string()) continue;
            const std::string name = a.get<std::string>();
            if (found.empty()) found = name;
            if (name == "LlamaForCausalLM") c.architecture = "llama", found = name;
            if (name == "MistralForCausalLM") c.architecture = "mistral", found = name;
        }
    } else if (const json* type = field(config, "model_type"); type && type->is_string()) {
        found = type->get<std::string>();
        if (found == "llama" || found == "mistral") c.architecture = found;
    }
    if (found != "LlamaForCausalLM" && found != "MistralForCausalLM" && found != "llama" &&
        found != "mistral")
        throw Error(where + ": architecture '" + (found.empty() ? "unknown" : found) +
                    "' is not supported (only LlamaForCausalLM and MistralForCausalLM)");
    for (const char* bias : {"attention_bias", "mlp_bias"})
        if (boolField(config, bias, false, where))
            throw Error(where + ": '" + bias + "' is true; biases are not supported");
    if (const json* act = field(config, "hidden_act");
        act && (!act->is_string() || act->get<std::string>() != "silu"))
        throw Error(where + ": activation " + act->dump() + " is not supported (only silu)");

    c.rope = RopeLayout::RotateHalf;
    c.hiddenSize = intField(config, "hidden_size", std::nullopt, where);
    c.intermediateSize = intField(config, "intermediate_size", std::nullopt, where);
    c.layers = intField(config, "num_hidden_layers", std::nullopt, where);
    c.heads = intField(config, "num_attention_heads", std::nullopt, where);
    c.kvHeads = intField(config, "num_key_value_heads", c.heads, where);
    c.headDim = intField(config, "head_dim", c.heads ? c.hiddenSize / c.heads : 0, where);
    c.vocabSize = intField(config, "vocab_size", std::nullopt, where);
    c.maxSequence = intField(config, "max_position_embeddings", 0, where);
    c.rmsNormEps = toFloatSaturated(numberField(config, "rms_norm_eps", 1e-6, where));
    c.ropeTheta = ropeTheta(config, where);
    c.tiedEmbeddings = boolField(config, "tie_word_embeddings", false, where);
    checkLlamaConfig(c, where);
    return c;
}

LlamaCheckpoint readHfCheckpoint(const std::string& folder, std::string_view configText,
                                 std::optional<std::string_view> indexText,
                                 const HfShardOpener& openShard) {
    LlamaCheckpoint checkpoint;
    checkpoint.path = folder;
    checkpoint.format = "Hugging Face safetensors";
    checkpoint.config = parseHfLlamaConfig(configText, folder + "/" + kConfig);

    // Which shard holds which tensor, as the index says.
    std::map<std::string, std::string> listed;  // tensor -> shard
    std::set<std::string> shards;
    const std::string indexPath = folder + "/" + kIndex;
    if (indexText) {
        const json index = parseJsonGuarded(*indexText, indexPath, 8);
        const json* map = index.is_object() ? field(index, "weight_map") : nullptr;
        if (!map || !map->is_object())
            throw Error(indexPath + ": has no 'weight_map' object naming each tensor's shard");
        for (const auto& [tensor, shard] : map->items()) {
            if (!shard.is_string())
                throw Error(indexPath + ": the shard of '" + tensor + "' must be a file name");
            checkShardName(shard.get<std::string>(), indexPath);
            listed.emplace(tensor, shard.get<std::string>());
            shards.insert(shard.get<std::string>());
        }
        if (shards.empty()) throw Error(indexPath + ": 'weight_map' names no tensor");
    } else {
        shards.insert(kSingle);
    }

    std::unordered_map<std::string, std::string> holder;  // tensor -> the shard it is in
    for (const std::string& shard : shards) {             // model-0000N-of-0000M sort in order
        const std::string shardPath = folder + "/" + shard;
        const std::shared_ptr<Storage> bytes = openShard(shard);
        if (!bytes)
            throw Error(indexText ? indexPath + ": shard " + shard + " is missing from the folder"
                                  : folder + ": has neither " + kSingle + " nor " + kIndex);
        for (NamedTensor& t : parseSafetensors(bytes, shardPath)) {
            const auto [it, added] = holder.emplace(t.name, shard);
            if (!added)
                throw Error(shardPath + ": tensor '" + t.name + "' is also in " + it->second +
                            "; the checkpoint is inconsistent");
            checkpoint.tensors.push_back(std::move(t));
        }
    }
    for (const auto& [tensor, shard] : listed) {
        const auto it = holder.find(tensor);
        if (it == holder.end() || it->second != shard)
            throw Error(indexPath + ": tensor '" + tensor + "' is listed in " + shard +
                        ", which does not hold it; the checkpoint is incomplete or inconsistent");
    }
    checkpoint.weights = assignLlamaRoles(checkpoint.config, checkpoint.tensors, kHuggingFaceNames,
                                          {DType::F32, DType::F16, DType::BF16}, folder);
    return checkpoint;
}

std::string hfCheckpointFolder(const std::string& path) {
    std::error_code ec;
    if (fs::is_directory(path, ec)) return path;
    const fs::path p(path);
    const std::string name = p.filename().string();
    const bool weights = name.size() > 12 && name.ends_with(".safetensors");
    if (name != kConfig && name != kIndex && !weights)
        throw Error(path + ": not a Hugging Face checkpoint; give its folder or its config.json");
    const std::string folder = p.has_parent_path() ? p.parent_path().string() : ".";
    if (!fs::is_regular_file(folder + "/" + kConfig, ec))
        throw Error(path +
                    ": no config.json beside it; a Hugging Face checkpoint is a folder "
                    "with config.json and its safetensors files");
    return folder;
}

LlamaCheckpoint openHfCheckpoint(const std::string& path) {
    const std::string folder = hfCheckpointFolder(path);
    std::error_code ec;
    const std::string config = readSmallText(folder + "/" + kConfig);
    std::optional<std::string> index;
    if (fs::exists(folder + "/" + kIndex, ec)) index = readSmallText(folder + "/" + kIndex);
    const auto open = [&folder](const std::string& name) -> std::shared_ptr<Storage> {
        std::error_code missing;
        if (!fs::exists(folder + "/" + name, missing)) return nullptr;
        return mapFile(folder + "/" + name);
    };
    LlamaCheckpoint checkpoint = readHfCheckpoint(
        folder, config, index ? std::optional<std::string_view>(*index) : std::nullopt, open);
    checkpoint.path = path;
    if (fs::is_regular_file(folder + "/tokenizer.model", ec))
        checkpoint.tokenizerModelPath = folder + "/tokenizer.model";
    return checkpoint;
}

}  // namespace cwb
