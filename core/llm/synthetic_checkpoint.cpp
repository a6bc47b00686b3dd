// Random-weight Hugging Face Llama folders (see synthetic_checkpoint.h).
#include "core/llm/synthetic_checkpoint.h"

#include <unistd.h>

#include <bit>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/io/safetensors_writer.h"
#include "core/util/parallel.h"
#include "core/util/rng.h"

namespace cwb {

namespace fs = std::filesystem;

namespace {

LlamaConfig shape(int hidden, int inter, int layers, int heads, int kvHeads, int vocab,
                  int maxSequence) {
    LlamaConfig c;
    c.hiddenSize = hidden;
    c.intermediateSize = inter;
    c.layers = layers;
    c.heads = heads;
    c.kvHeads = kvHeads;
    c.headDim = hidden / heads;
    c.vocabSize = vocab;
    c.maxSequence = maxSequence;
    return c;
}

std::vector<TensorDeclaration> declarations(const LlamaConfig& c) {
    const std::int64_t h = c.hiddenSize, q = std::int64_t(c.heads) * c.headDim,
                       kv = std::int64_t(c.kvHeads) * c.headDim, f = c.intermediateSize;
    std::vector<TensorDeclaration> out{
        {"model.embed_tokens.weight", {c.vocabSize, h}, DType::BF16}};
    for (int i = 0; i < c.layers; ++i) {
        const std::string p = "model.layers." + std::to_string(i) + ".";
        out.push_back({p + "input_layernorm.weight", {h}, DType::BF16});
        out.push_back({p + "self_attn.q_proj.weight", {q, h}, DType::BF16});
        out.push_back({p + "self_attn.k_proj.weight", {kv, h}, DType::BF16});
        out.push_back({p + "self_attn.v_proj.weight", {kv, h}, DType::BF16});
        out.push_back({p + "self_attn.o_proj.weight", {h, q}, DType::BF16});
        out.push_back({p + "post_attention_layernorm.weight", {h}, DType::BF16});
        out.push_back({p + "mlp.gate_proj.weight", {f, h}, DType::BF16});
        out.push_back({p + "mlp.up_proj.weight", {f, h}, DType::BF16});
        out.push_back({p + "mlp.down_proj.weight", {h, f}, DType::BF16});
    }
    out.push_back({"model.norm.weight", {h}, DType::BF16});
    if (!c.tiedEmbeddings) out.push_back({"lm_head.weight", {c.vocabSize, h}, DType::BF16});
    return out;
}

std::uint16_t toBf16(float v) {
    const std::uint32_t bits = std::bit_cast<std::uint32_t>(v);
    return static_cast<std::uint16_t>((bits + 0x7fffu + ((bits >> 16) & 1u)) >> 16);
}

// Norm weights are 1; matrices uniform in ±0.02·√3 (standard deviation 0.02, as Llama's
// initialiser), from a stream per tensor so the result does not depend on the thread count.
void fillTensor(const TensorDeclaration& t, std::uint64_t seed, std::byte* out) {
    const long long n = shapeElements(t.shape);
    auto* values = reinterpret_cast<std::uint16_t*>(out);
    if (t.shape.size() == 1) {
        std::fill(values, values + n, toBf16(1.0f));
        return;
    }
    constexpr long long kChunk = 1 << 16;
    const float scale = 0.02f * 1.7320508f / 32768.0f;
    parallelFor((n + kChunk - 1) / kChunk, 0, [&](long long begin, long long end, int) {
        for (long long chunk = begin; chunk < end; ++chunk) {
            Rng rng(deriveSeed(seed, static_cast<std::uint64_t>(chunk)));
            const long long last = std::min(n, (chunk + 1) * kChunk);
            for (long long i = chunk * kChunk; i < last; i += 4) {
                std::uint64_t r = rng.next();
                for (long long k = i; k < std::min(last, i + 4); ++k, r >>= 16)
                    values[k] = toBf16(static_cast<std::int16_t>(r & 0xffff) * scale);
            }
        }
    });
}

nlohmann::ordered_json configJson(const LlamaConfig& c) {
    return {{"architectures", {"LlamaForCausalLM"}},
            {"model_type", "llama"},
            {"hidden_size", c.hiddenSize},
            {"intermediate_size", c.intermediateSize},
            {"num_hidden_layers", c.layers},
            {"num_attention_heads", c.heads},
            {"num_key_value_heads", c.kvHeads},
            {"head_dim", c.headDim},
            {"max_position_embeddings", c.maxSequence},
            {"rms_norm_eps", c.rmsNormEps},
            {"rope_theta", c.ropeTheta},
            {"tie_word_embeddings", c.tiedEmbeddings},
            {"vocab_size", c.vocabSize},
            {"torch_dtype", "bfloat16"},
            {"bos_token_id", 1},
            {"eos_token_id", 2},
            {"hidden_act", "silu"}};
}

void writeText(const fs::path& path, const std::string& text) {
    std::ofstream out(path, std::ios::binary);
    out << text;
    if (!out) throw Error(path.string() + ": cannot write (disk full?)");
}

}  // namespace

std::vector<std::string> syntheticShapeNames() { return {"tinyllama", "llama7b", "small"}; }

LlamaConfig syntheticShape(const std::string& name) {
    if (name == "tinyllama") return shape(2048, 5632, 22, 32, 4, 32000, 2048);
    if (name == "llama7b") return shape(4096, 11008, 32, 32, 32, 32000, 4096);
    if (name == "small") return shape(256, 768, 6, 8, 2, 4096, 256);
    throw Error("unknown shape '" + name + "'; choose tinyllama, llama7b or small");
}

std::uint64_t syntheticCheckpointBytes(const LlamaConfig& config) {
    std::uint64_t total = 0;
    for (const auto& t : declarations(config)) total += t.bytes();
    return total;
}

void writeSyntheticCheckpoint(const LlamaConfig& config, const std::string& dir,
                              const SyntheticCheckpointOptions& options, const Progress& progress) {
    const fs::path target(dir);
    if (fs::exists(target))
        throw Error(
            dir +
            ": already exists; give a new folder name (nothing is written into an existing one)");
    std::string tempName = target.filename().string();
    tempName.insert(0, 1, '.');
    tempName += ".partial-" + std::to_string(getpid());
    const fs::path temp = target.parent_path() / tempName;
    fs::create_directories(temp);
    try {
        // Shards as save_pretrained cuts them: a new shard when the next tensor would pass the
        // limit.
        std::vector<std::vector<TensorDeclaration>> shards(1);
        std::uint64_t inShard = 0;
        for (auto& t : declarations(config)) {
            if (inShard > 0 && inShard + t.bytes() > options.shardBytes) {
                shards.emplace_back();
                inShard = 0;
            }
            inShard += t.bytes();
            shards.back().push_back(std::move(t));
        }
        const std::uint64_t total = syntheticCheckpointBytes(config);
        std::uint64_t written = 0, tensorIndex = 0;
        nlohmann::ordered_json weightMap = nlohmann::ordered_json::object();
        char name[64];
        for (std::size_t s = 0; s < shards.size(); ++s) {
            std::snprintf(name, sizeof name, "model-%05zu-of-%05zu.safetensors", s + 1,
                          shards.size());
            writeSafetensors(
                (temp / name).string(), shards[s], [&](const TensorDeclaration& t, std::byte* out) {
                    progress.step(static_cast<long long>(written), static_cast<long long>(total));
                    fillTensor(t, deriveSeed(options.seed, tensorIndex++), out);
                    written += t.bytes();
                });
            for (const auto& t : shards[s]) weightMap[t.name] = name;
        }
        nlohmann::ordered_json index = {{"metadata", {{"total_size", total}}},
                                        {"weight_map", weightMap}};
        writeText(temp / "model.safetensors.index.json", index.dump(2) + "\n");
        writeText(temp / "config.json", configJson(config).dump(2) + "\n");
        if (!options.tokenizerModel.empty())
            fs::copy_file(options.tokenizerModel, temp / "tokenizer.model");
        progress.step(static_cast<long long>(total), static_cast<long long>(total));
        fs::rename(temp, target);
    } catch (...) {
        std::error_code ignored;
        fs::remove_all(temp, ignored);
        throw;
    }
}

}  // namespace cwb
