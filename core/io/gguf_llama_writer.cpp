// LlamaWeights -> GGUF (see gguf_llama_writer.h). Key and tensor names are llama.cpp's, the
// same ones gguf_llama.cpp reads.
#include "core/io/gguf_llama_writer.h"

#include <cstring>

#include "core/error.h"
#include "core/io/gguf_writer.h"
#include "core/io/llama_roles.h"

namespace cwb {
namespace {

// Hugging Face's q/k rows pair dimension i with i + d/2 within each head; llama.cpp's RoPE
// pairs 2i with 2i + 1. Row 2i of a head in the GGUF layout is its row i in Hugging Face's,
// row 2i + 1 its row i + d/2. Rows are moved whole, so packed block rows move as they are.
Tensor toAdjacentPairs(const Tensor& t, int heads, int headDim) {
    const std::int64_t rows = t.shape()[0];
    const std::size_t rowBytes = t.byteSize() / static_cast<std::size_t>(rows);
    auto storage = std::make_shared<OwnedStorage>(t.byteSize());
    const std::byte* in = t.bytes();
    std::byte* out = storage->mutableData();
    const int half = headDim / 2;
    for (int h = 0; h < heads; ++h)
        for (int i = 0; i < half; ++i)
            for (int j = 0; j < 2; ++j) {
                const std::int64_t to = static_cast<std::int64_t>(h) * headDim + 2 * i + j;
                const std::int64_t from = static_cast<std::int64_t>(h) * headDim + i + j * half;
                std::memcpy(out + to * rowBytes, in + from * rowBytes, rowBytes);
            }
    return Tensor(t.shape(), t.dtype(), storage);
}

void setHyperparameters(GgufWriter& w, const LlamaConfig& c) {
    const auto u = [](int v) { return static_cast<std::uint32_t>(v); };
    // llama.cpp requires a training context; 2048 (Llama's) when the checkpoint gives none.
    w.setUInt32("llama.context_length", u(c.maxSequence > 0 ? c.maxSequence : 2048));
    w.setUInt32("llama.embedding_length", u(c.hiddenSize));
    w.setUInt32("llama.block_count", u(c.layers));
    w.setUInt32("llama.feed_forward_length", u(c.intermediateSize));
    w.setUInt32("llama.attention.head_count", u(c.heads));
    w.setUInt32("llama.attention.head_count_kv", u(c.kvHeads));
    w.setUInt32("llama.attention.key_length", u(c.headDim));
    w.setUInt32("llama.attention.value_length", u(c.headDim));
    w.setUInt32("llama.rope.dimension_count", u(c.headDim));
    w.setFloat32("llama.rope.freq_base", c.ropeTheta);
    w.setFloat32("llama.attention.layer_norm_rms_epsilon", c.rmsNormEps);
    w.setUInt32("llama.vocab_size", u(c.vocabSize));
}

void setVocabulary(GgufWriter& w, const Vocabulary& given, int vocabSize) {
    Vocabulary v = given;
    const std::size_t n = static_cast<std::size_t>(vocabSize);
    if (v.pieces.empty())
        throw Error(
            "GGUF output: the checkpoint has no vocabulary (llama.cpp needs one); "
            "put its tokenizer.model beside it");
    if (v.pieces.size() > n || v.scores.size() != v.pieces.size() ||
        v.kinds.size() != v.pieces.size())
        throw Error("GGUF output: the vocabulary has " + std::to_string(v.pieces.size()) +
                    " pieces but the model " + std::to_string(vocabSize) +
                    " token rows; the tokenizer does not belong to this checkpoint");
    // Embedding rows past the tokenizer's pieces (a vocabulary padded for alignment, or
    // cwb synth's): unused pieces, named as convert_hf_to_gguf.py names them.
    for (std::size_t id = v.pieces.size(); id < n; ++id) {
        v.pieces.push_back("[PAD" + std::to_string(id) + "]");
        v.scores.push_back(0.0f);
        v.kinds.push_back(PieceKind::Unused);
    }
    std::vector<std::int32_t> kinds(n);
    for (std::size_t i = 0; i < n; ++i) kinds[i] = static_cast<std::int32_t>(v.kinds[i]);
    w.setString("tokenizer.ggml.model", "llama");
    w.setString("tokenizer.ggml.pre", "default");
    w.setStrings("tokenizer.ggml.tokens", v.pieces);
    w.setFloat32s("tokenizer.ggml.scores", v.scores);
    w.setInt32s("tokenizer.ggml.token_type", kinds);
    w.setUInt32("tokenizer.ggml.bos_token_id", static_cast<std::uint32_t>(v.bos));
    w.setUInt32("tokenizer.ggml.eos_token_id", static_cast<std::uint32_t>(v.eos));
    w.setUInt32("tokenizer.ggml.unknown_token_id", static_cast<std::uint32_t>(v.unknown));
    w.setBool("tokenizer.ggml.add_bos_token", true);
    w.setBool("tokenizer.ggml.add_eos_token", false);
    w.setBool("tokenizer.ggml.add_space_prefix", v.addSpacePrefix);
}

}  // namespace

std::uint32_t llamaFileType(DType type) {
    switch (type) {
        case DType::F32:
            return 0;
        case DType::F16:
            return 1;
        case DType::Q4_0:
            return 2;
        case DType::Q4_1:
            return 3;
        case DType::Q8_0:
            return 7;
        case DType::Q5_0:
            return 8;
        case DType::Q5_1:
            return 9;
        case DType::Q2_K:
            return 10;
        case DType::Q3_K:
            return 12;
        case DType::Q4_K:
            return 15;
        case DType::Q5_K:
            return 17;
        case DType::Q6_K:
            return 18;
        case DType::BF16:
            return 32;
        default:
            throw Error("GGUF output: " + dtypeName(type) + " is not a llama.cpp file type");
    }
}

void writeLlamaGguf(const std::string& path, const LlamaConfig& config, const LlamaWeights& weights,
                    const Vocabulary& vocabulary, const GgufLlamaOutput& output) {
    if (weights.blocks.size() != static_cast<std::size_t>(config.layers))
        throw Error("GGUF output: " + std::to_string(weights.blocks.size()) +
                    " blocks of weights for a model of " + std::to_string(config.layers) +
                    " layers");
    GgufWriter w;
    w.setString("general.architecture", "llama");
    w.setString("general.type", "model");
    if (!output.name.empty()) w.setString("general.name", output.name);
    setHyperparameters(w, config);
    setVocabulary(w, vocabulary, config.vocabSize);
    const DType fileType = output.fileType.value_or(weights.blocks.front().q.dtype());
    w.setUInt32("general.quantization_version", 2);  // ggml's current block layouts
    w.setUInt32("general.file_type", llamaFileType(fileType));

    const LlamaTensorNames& n = kGgufNames;
    const auto qk = [&](const Tensor& t, int heads) {
        return config.rope == RopeLayout::RotateHalf ? toAdjacentPairs(t, heads, config.headDim)
                                                     : t;
    };
    w.addTensor(n.embedding, weights.embedding);
    for (int layer = 0; layer < config.layers; ++layer) {
        const LlamaBlockWeights& b = weights.blocks[static_cast<std::size_t>(layer)];
        const std::string prefix = n.blockPrefix + std::to_string(layer);
        w.addTensor(prefix + n.attnNorm, b.attnNorm.toFloat32());
        w.addTensor(prefix + n.q, qk(b.q, config.heads));
        w.addTensor(prefix + n.k, qk(b.k, config.kvHeads));
        w.addTensor(prefix + n.v, b.v);
        w.addTensor(prefix + n.o, b.o);
        w.addTensor(prefix + n.ffnNorm, b.ffnNorm.toFloat32());
        w.addTensor(prefix + n.gate, b.gate);
        w.addTensor(prefix + n.up, b.up);
        w.addTensor(prefix + n.down, b.down);
    }
    w.addTensor(n.finalNorm, weights.finalNorm.toFloat32());
    if (!config.tiedEmbeddings) w.addTensor(n.output, weights.output);
    w.write(path, output.protectedSource);
}

}  // namespace cwb
