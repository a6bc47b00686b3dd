// kjv-llama-6m for the language-model tests, read without the checkpoint readers: the two
// safetensors shards through parseSafetensors, the config written out here from its
// config.json; the evaluation text's token ids; numpy .npy arrays (float32, C order) for
// reference logits.
#pragma once

#include <cstdint>
#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/io/safetensors.h"
#include "core/llm/llama_weights.h"
#include "core/llm/tokenizer.h"
#include "core/util/mapped_file.h"
#include "tests/support/test_paths.h"

namespace cwb::test {

inline LlamaConfig kjvConfig() {
    LlamaConfig c;
    c.hiddenSize = 256;
    c.intermediateSize = 768;
    c.layers = 6;
    c.heads = 8;
    c.kvHeads = 2;
    c.headDim = 32;
    c.vocabSize = 4096;
    c.maxSequence = 512;
    c.rmsNormEps = 1e-5f;
    c.ropeTheta = 10000.f;
    c.tiedEmbeddings = false;
    c.rope = RopeLayout::RotateHalf;
    return c;
}

// kjv-llama-6m's bf16 weights from its Hugging Face folder.
inline LlamaCheckpoint loadKjvSafetensors() {
    std::map<std::string, Tensor> byName;
    LlamaCheckpoint ckpt;
    for (const char* shard :
         {"model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"}) {
        const std::string path = llmFixture(std::string("kjv-llama-6m/") + shard);
        for (auto& named : parseSafetensors(mapFile(path), path)) {
            byName[named.name] = named.tensor;
            ckpt.tensors.push_back(named);
        }
    }
    auto get = [&](const std::string& name) {
        const auto it = byName.find(name);
        if (it == byName.end()) throw std::runtime_error("kjv-llama-6m: no tensor " + name);
        return it->second;
    };
    ckpt.path = llmFixture("kjv-llama-6m");
    ckpt.format = "Hugging Face safetensors";
    ckpt.config = kjvConfig();
    ckpt.weights.embedding = get("model.embed_tokens.weight");
    ckpt.weights.finalNorm = get("model.norm.weight");
    ckpt.weights.output = get("lm_head.weight");
    for (int i = 0; i < ckpt.config.layers; ++i) {
        const std::string p = "model.layers." + std::to_string(i) + ".";
        LlamaBlockWeights b;
        b.attnNorm = get(p + "input_layernorm.weight");
        b.q = get(p + "self_attn.q_proj.weight");
        b.k = get(p + "self_attn.k_proj.weight");
        b.v = get(p + "self_attn.v_proj.weight");
        b.o = get(p + "self_attn.o_proj.weight");
        b.ffnNorm = get(p + "post_attention_layernorm.weight");
        b.gate = get(p + "mlp.gate_proj.weight");
        b.up = get(p + "mlp.up_proj.weight");
        b.down = get(p + "mlp.down_proj.weight");
        ckpt.weights.blocks.push_back(b);
    }
    return ckpt;
}

// kjv-llama-6m's tokenizer (libsentencepiece on its tokenizer.model).
inline std::unique_ptr<Tokenizer> kjvTokenizer() {
    return loadSentencePieceTokenizer(llmFixture("kjv-llama-6m/tokenizer.model"));
}

// eval_revelation.txt as kjv-llama-6m's tokenizer encodes the whole text, BOS first.
inline std::vector<std::int32_t> revelationTokens() {
    return kjvTokenizer()->encode(readBytes(llmFixture("eval_revelation.txt")), true);
}

struct NpyArray {
    std::vector<std::int64_t> shape;
    std::vector<float> values;
};

// A little-endian float32 C-order .npy file (format version 1 or 2).
inline NpyArray readNpy(const std::string& path) {
    const std::string bytes = readBytes(path);
    if (bytes.size() < 12 || bytes.compare(0, 6, "\x93NUMPY") != 0)
        throw std::runtime_error(path + ": not a .npy file");
    const int major = static_cast<unsigned char>(bytes[6]);
    std::size_t headerLength = 0, start = 0;
    if (major == 1) {
        headerLength = static_cast<unsigned char>(bytes[8]) |
                       (static_cast<std::size_t>(static_cast<unsigned char>(bytes[9])) << 8);
        start = 10;
    } else {
        for (int i = 0; i < 4; ++i)
            headerLength |= static_cast<std::size_t>(static_cast<unsigned char>(bytes[8 + i]))
                            << (8 * i);
        start = 12;
    }
    const std::string header = bytes.substr(start, headerLength);
    if (header.find("'<f4'") == std::string::npos ||
        header.find("'fortran_order': False") == std::string::npos)
        throw std::runtime_error(path + ": only little-endian float32 in C order is read here");
    NpyArray a;
    std::stringstream dims(
        header.substr(header.find('(') + 1, header.find(')') - header.find('(') - 1));
    for (std::string d; std::getline(dims, d, ',');)
        if (d.find_first_not_of(' ') != std::string::npos) a.shape.push_back(std::stoll(d));
    std::size_t count = 1;
    for (auto d : a.shape) count *= static_cast<std::size_t>(d);
    const std::size_t data = start + headerLength;
    if (bytes.size() != data + count * 4) throw std::runtime_error(path + ": truncated");
    a.values.resize(count);
    std::memcpy(a.values.data(), bytes.data() + data, count * 4);
    return a;
}

}  // namespace cwb::test
