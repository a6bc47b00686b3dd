// GGUF -> LlamaCheckpoint (see gguf_llama.h). Key names are llama.cpp's (LLM_KV_* in its
// llama-arch.cpp, documented in ggml's docs/gguf.md).
#include "core/io/gguf_llama.h"

#include <limits>

#include "core/error.h"
#include "core/io/gguf.h"
#include "core/io/llama_roles.h"
#include "core/util/mapped_file.h"

namespace cwb {
namespace {

constexpr std::int64_t kMaxVocabulary = 1 << 24;

// An integer key that fits an int; `fallback` when absent, an error when also required.
int sizeKey(const GgufFile& file, const std::string& key, std::optional<int> fallback) {
    const auto value = file.integer(key);
    if (!value) {
        if (fallback) return *fallback;
        throw Error(file.where() + ": GGUF key '" + key + "' is missing; the file is not a " +
                    "complete llama.cpp checkpoint");
    }
    if (*value < 0 || *value > std::numeric_limits<int>::max())
        throw Error(file.where() + ": GGUF key '" + key + "' is " + std::to_string(*value) +
                    ", out of range");
    return static_cast<int>(*value);
}

LlamaConfig readConfig(const GgufFile& file, const std::vector<NamedTensor>& tensors) {
    const std::string& where = file.where();
    const auto arch = file.text("general.architecture");
    if (!arch) throw Error(where + ": GGUF key 'general.architecture' is missing");
    if (*arch != "llama")
        throw Error(where + ": architecture '" + *arch + "' is not supported (only llama)");
    if (sizeKey(file, "llama.expert_count", 0) > 0)
        throw Error(where + ": mixture-of-experts models are not supported");
    if (const auto scaling = file.text("llama.rope.scaling.type"); scaling && *scaling != "none")
        throw Error(where + ": RoPE scaling '" + *scaling + "' is not supported");

    LlamaConfig c;
    c.architecture = "llama";
    c.rope = RopeLayout::AdjacentPairs;  // convert_hf_to_gguf permutes q/k rows for it
    c.hiddenSize = sizeKey(file, "llama.embedding_length", std::nullopt);
    c.intermediateSize = sizeKey(file, "llama.feed_forward_length", std::nullopt);
    c.layers = sizeKey(file, "llama.block_count", std::nullopt);
    c.heads = sizeKey(file, "llama.attention.head_count", std::nullopt);
    c.kvHeads = sizeKey(file, "llama.attention.head_count_kv", c.heads);
    c.headDim = sizeKey(file, "llama.attention.key_length", c.heads ? c.hiddenSize / c.heads : 0);
    if (sizeKey(file, "llama.attention.value_length", c.headDim) != c.headDim)
        throw Error(where + ": key and value heads of different sizes are not supported");
    if (sizeKey(file, "llama.rope.dimension_count", c.headDim) != c.headDim)
        throw Error(where + ": RoPE over part of a head is not supported");
    c.maxSequence = sizeKey(file, "llama.context_length", 0);
    const auto eps = file.number("llama.attention.layer_norm_rms_epsilon");
    if (!eps) throw Error(where + ": GGUF key 'llama.attention.layer_norm_rms_epsilon' is missing");
    c.rmsNormEps = toFloatSaturated(*eps);
    c.ropeTheta = toFloatSaturated(file.number("llama.rope.freq_base").value_or(10000.0));

    // The vocabulary's size: its tokens, else the key, else the embedding's rows.
    const std::uint64_t tokens = file.arrayCount("tokenizer.ggml.tokens");
    const int declared = sizeKey(file, "llama.vocab_size", 0);
    if (tokens > 0) {
        if (tokens > kMaxVocabulary)
            throw Error(where + ": " + std::to_string(tokens) + " tokens are too many");
        c.vocabSize = static_cast<int>(tokens);
        if (declared && declared != c.vocabSize)
            throw Error(where + ": llama.vocab_size is " + std::to_string(declared) +
                        " but the tokenizer has " + std::to_string(tokens) + " tokens");
    } else if (declared) {
        c.vocabSize = declared;
    } else {
        for (const NamedTensor& t : tensors)
            if (t.name == kGgufNames.embedding && t.tensor.shape().size() == 2 &&
                t.tensor.shape()[0] <= kMaxVocabulary)
                c.vocabSize = static_cast<int>(t.tensor.shape()[0]);
    }
    c.tiedEmbeddings = true;
    for (const NamedTensor& t : tensors) {
        if (t.name == kGgufNames.output) c.tiedEmbeddings = false;
        if (t.name == "rope_freqs.weight")
            throw Error(where +
                        ": tensor 'rope_freqs.weight' (scaled RoPE frequencies, as in "
                        "Llama 3.1) is not supported");
    }
    checkLlamaConfig(c, where);
    return c;
}

int tokenId(const GgufFile& file, const std::string& key, int fallback, int vocabulary) {
    const auto id = file.integer(key);
    if (!id) return fallback;
    if (*id < 0 || *id >= vocabulary)
        throw Error(file.where() + ": GGUF key '" + key + "' is " + std::to_string(*id) +
                    ", outside the vocabulary of " + std::to_string(vocabulary) + " tokens");
    return static_cast<int>(*id);
}

// tokenizer.ggml.*: SentencePiece pieces, scores and kinds. Empty when the file has none.
Vocabulary readVocabulary(const GgufFile& file) {
    const std::string& where = file.where();
    Vocabulary v;
    const auto model = file.text("tokenizer.ggml.model");
    if (!model) return v;
    if (*model != "llama")
        throw Error(where + ": tokenizer '" + *model +
                    "' is not supported (only SentencePiece vocabularies, 'llama')");
    v.pieces = file.textArray("tokenizer.ggml.tokens");
    if (v.pieces.empty()) throw Error(where + ": GGUF key 'tokenizer.ggml.tokens' is missing");
    const std::size_t n = v.pieces.size();
    const auto count = [&](const char* key) {
        const std::uint64_t got = file.arrayCount(key);
        if (got != 0 && got != n)
            throw Error(where + ": GGUF key '" + key + "' has " + std::to_string(got) +
                        " entries for " + std::to_string(n) + " tokens");
        return got;
    };
    v.scores.assign(n, 0.0f);
    if (count("tokenizer.ggml.scores")) {
        const std::vector<double> scores = file.numberArray("tokenizer.ggml.scores");
        for (std::size_t i = 0; i < n; ++i) v.scores[i] = toFloatSaturated(scores[i]);
    }
    v.kinds.assign(n, PieceKind::Normal);
    if (count("tokenizer.ggml.token_type")) {
        const std::vector<double> kinds = file.numberArray("tokenizer.ggml.token_type");
        for (std::size_t i = 0; i < n; ++i) {
            // 0 is llama.cpp's "undefined", which it treats as normal.
            if (!(kinds[i] >= 0 && kinds[i] <= 6) || kinds[i] != static_cast<int>(kinds[i]))
                throw Error(where + ": token " + std::to_string(i) + " has type " +
                            std::to_string(kinds[i]) + ", not a SentencePiece piece kind (1 to 6)");
            if (kinds[i] >= 1) v.kinds[i] = static_cast<PieceKind>(static_cast<int>(kinds[i]));
        }
    }
    const int size = static_cast<int>(n);
    v.bos = tokenId(file, "tokenizer.ggml.bos_token_id", 1, size);
    v.eos = tokenId(file, "tokenizer.ggml.eos_token_id", 2, size);
    v.unknown = tokenId(file, "tokenizer.ggml.unknown_token_id", 0, size);
    v.addSpacePrefix = file.boolean("tokenizer.ggml.add_space_prefix").value_or(true);
    return v;
}

}  // namespace

LlamaCheckpoint readGgufCheckpoint(std::shared_ptr<Storage> storage, const std::string& where) {
    const GgufFile file = GgufFile::parse(std::move(storage), where);
    LlamaCheckpoint checkpoint;
    checkpoint.path = where;
    checkpoint.format = "GGUF v" + std::to_string(file.version());
    checkpoint.tensors.reserve(file.tensorInfos().size());
    for (const GgufTensorInfo& info : file.tensorInfos())
        checkpoint.tensors.push_back({info.name, file.tensor(info)});
    checkpoint.config = readConfig(file, checkpoint.tensors);
    checkpoint.weights = assignLlamaRoles(
        checkpoint.config, checkpoint.tensors, kGgufNames,
        {DType::F32, DType::F16, DType::BF16, DType::Q8_0, DType::Q4_0, DType::Q4_1, DType::Q5_0,
         DType::Q5_1, DType::Q2_K, DType::Q3_K, DType::Q4_K, DType::Q5_K, DType::Q6_K},
        where);
    checkpoint.vocabulary = readVocabulary(file);
    return checkpoint;
}

LlamaCheckpoint openGgufCheckpoint(const std::string& path) {
    return readGgufCheckpoint(mapFile(path), path);
}

}  // namespace cwb
