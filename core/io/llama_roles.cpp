// Config bounds and role assignment shared by the Llama checkpoint readers (see llama_roles.h).
#include "core/io/llama_roles.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <unordered_map>

#include "core/error.h"

namespace cwb {
namespace {

// Far above any released model (Llama 3.1 405B: hidden 16384, intermediate 53248, 126
// layers; Gemma: vocabulary 256000), low enough that products of two stay in 64 bits.
constexpr int kMaxSize = 1 << 24;
constexpr int kMaxLayers = 1 << 16;

std::string dtypeList(std::initializer_list<DType> types) {
    std::string out;
    for (DType t : types) out += (out.empty() ? "" : ", ") + dtypeName(t);
    return out;
}

}  // namespace

const LlamaTensorNames kHuggingFaceNames{"model.embed_tokens.weight",
                                         "model.norm.weight",
                                         "lm_head.weight",
                                         "model.layers.",
                                         ".input_layernorm.weight",
                                         ".self_attn.q_proj.weight",
                                         ".self_attn.k_proj.weight",
                                         ".self_attn.v_proj.weight",
                                         ".self_attn.o_proj.weight",
                                         ".post_attention_layernorm.weight",
                                         ".mlp.gate_proj.weight",
                                         ".mlp.up_proj.weight",
                                         ".mlp.down_proj.weight"};

const LlamaTensorNames kGgufNames{
    "token_embd.weight",   "output_norm.weight", "output.weight",    "blk.",
    ".attn_norm.weight",   ".attn_q.weight",     ".attn_k.weight",   ".attn_v.weight",
    ".attn_output.weight", ".ffn_norm.weight",   ".ffn_gate.weight", ".ffn_up.weight",
    ".ffn_down.weight"};

float toFloatSaturated(double value) {
    constexpr double kMax = std::numeric_limits<float>::max();
    if (value > kMax) return std::numeric_limits<float>::infinity();
    if (value < -kMax) return -std::numeric_limits<float>::infinity();
    return static_cast<float>(value);
}

void checkLlamaConfig(const LlamaConfig& c, const std::string& where) {
    const std::pair<const char*, int> sizes[] = {
        {"hidden size", c.hiddenSize}, {"intermediate size", c.intermediateSize},
        {"attention heads", c.heads},  {"key/value heads", c.kvHeads},
        {"head size", c.headDim},      {"vocabulary size", c.vocabSize}};
    for (const auto& [what, value] : sizes)
        if (value < 1 || value > kMaxSize)
            throw Error(where + ": " + what + " " + std::to_string(value) +
                        " is out of range (1 to " + std::to_string(kMaxSize) + ")");
    if (c.layers < 1 || c.layers > kMaxLayers)
        throw Error(where + ": layer count " + std::to_string(c.layers) +
                    " is out of range (1 to " + std::to_string(kMaxLayers) + ")");
    if (c.maxSequence < 0)
        throw Error(where + ": context length " + std::to_string(c.maxSequence) + " is negative");
    if (c.heads % c.kvHeads != 0)
        throw Error(where + ": " + std::to_string(c.heads) +
                    " attention heads do not divide into " + std::to_string(c.kvHeads) +
                    " key/value heads");
    if (c.headDim % 2 != 0)
        throw Error(where + ": head size " + std::to_string(c.headDim) +
                    " is odd; RoPE needs pairs of dimensions");
    if (!(std::isfinite(c.rmsNormEps) && c.rmsNormEps > 0))
        throw Error(where + ": RMSNorm epsilon " + std::to_string(c.rmsNormEps) +
                    " is not a positive number");
    if (!(std::isfinite(c.ropeTheta) && c.ropeTheta > 0))
        throw Error(where + ": RoPE theta " + std::to_string(c.ropeTheta) +
                    " is not a positive number");
}

LlamaWeights assignLlamaRoles(const LlamaConfig& c, const std::vector<NamedTensor>& tensors,
                              const LlamaTensorNames& names, std::initializer_list<DType> allowed,
                              const std::string& where) {
    std::unordered_map<std::string_view, const Tensor*> byName;
    for (const NamedTensor& t : tensors) byName.emplace(t.name, &t.tensor);

    auto take = [&](const std::string& name, Shape shape) -> Tensor {
        const auto it = byName.find(name);
        if (it == byName.end()) throw Error(where + ": tensor '" + name + "' is missing");
        const Tensor& t = *it->second;
        if (t.shape() != shape)
            throw Error(where + ": tensor '" + name + "' has shape " + shapeToString(t.shape()) +
                        ", the config needs " + shapeToString(shape));
        if (std::find(allowed.begin(), allowed.end(), t.dtype()) == allowed.end())
            throw Error(where + ": tensor '" + name + "' is " + dtypeName(t.dtype()) +
                        ", which is not supported here (supported: " + dtypeList(allowed) + ")");
        return t;
    };

    const std::int64_t hidden = c.hiddenSize, inter = c.intermediateSize;
    const std::int64_t qRows = std::int64_t(c.heads) * c.headDim;
    const std::int64_t kvRows = std::int64_t(c.kvHeads) * c.headDim;
    LlamaWeights w;
    w.embedding = take(names.embedding, {c.vocabSize, hidden});
    for (int i = 0; i < c.layers; ++i) {
        const std::string p = names.blockPrefix + std::to_string(i);
        LlamaBlockWeights b;
        b.attnNorm = take(p + names.attnNorm, {hidden});
        b.q = take(p + names.q, {qRows, hidden});
        b.k = take(p + names.k, {kvRows, hidden});
        b.v = take(p + names.v, {kvRows, hidden});
        b.o = take(p + names.o, {hidden, qRows});
        b.ffnNorm = take(p + names.ffnNorm, {hidden});
        b.gate = take(p + names.gate, {inter, hidden});
        b.up = take(p + names.up, {inter, hidden});
        b.down = take(p + names.down, {hidden, inter});
        w.blocks.push_back(std::move(b));
    }
    w.finalNorm = take(names.finalNorm, {hidden});
    w.output = c.tiedEmbeddings ? w.embedding : take(names.output, {c.vocabSize, hidden});
    return w;
}

}  // namespace cwb
