// llama2.c checkpoints (see llama2c_checkpoint.h). The array order and shapes are those of
// run.c's memory_map_weights(); RMSNorm eps 1e-5 and RoPE theta 10000 are run.c's constants.
#include "core/io/llama2c_checkpoint.h"

#include <cstring>
#include <optional>

#include "core/error.h"
#include "core/io/llama_roles.h"
#include "core/io/tensor_checks.h"
#include "core/util/mapped_file.h"

namespace cwb {
namespace {

constexpr std::uint64_t kHeaderBytes = 7 * 4;

struct Array {
    const char* name;
    Shape shape;  // the whole array; per-layer arrays have the layer count first
};

struct Layout {
    LlamaConfig config;
    std::vector<Array> arrays;  // in file order
    std::uint64_t bytes = 0;    // header and every array
};

// The layout the header describes, or the reason it is not a plausible llama2.c header.
std::optional<Layout> layoutOf(const Storage& file, std::string& problem) {
    if (file.size() < kHeaderBytes) {
        problem = "is too short for a llama2.c header";
        return std::nullopt;
    }
    std::int32_t h[7];
    std::memcpy(h, file.data(), sizeof h);
    const auto [dim, hidden, layers, heads, kvHeads, vocab, seqLen] = h;
    Layout l;
    LlamaConfig& c = l.config;
    c.hiddenSize = dim;
    c.intermediateSize = hidden;
    c.layers = layers;
    c.heads = heads;
    c.kvHeads = kvHeads;
    c.headDim = heads > 0 ? dim / heads : 0;
    c.vocabSize = vocab == INT32_MIN ? 0 : vocab < 0 ? -vocab : vocab;
    c.maxSequence = seqLen;
    c.tiedEmbeddings = vocab > 0;
    c.rope = RopeLayout::AdjacentPairs;
    c.rmsNormEps = 1e-5f;
    c.ropeTheta = 10000.0f;
    try {
        checkLlamaConfig(c, "");
    } catch (const Error& e) {
        problem = std::string("has an implausible llama2.c header") + e.what();
        return std::nullopt;
    }
    if (dim % heads != 0 || seqLen < 1) {
        problem = "has an implausible llama2.c header (dim " + std::to_string(dim) + ", " +
                  std::to_string(heads) + " heads, seq_len " + std::to_string(seqLen) + ")";
        return std::nullopt;
    }
    const std::int64_t L = layers, d = dim, f = hidden, v = c.vocabSize;
    const std::int64_t kv = std::int64_t(kvHeads) * c.headDim;
    l.arrays = {{"token_embedding_table", {v, d}},
                {"rms_att_weight", {L, d}},
                {"wq", {L, d, d}},
                {"wk", {L, kv, d}},
                {"wv", {L, kv, d}},
                {"wo", {L, d, d}},
                {"rms_ffn_weight", {L, d}},
                {"w1", {L, f, d}},
                {"w2", {L, d, f}},
                {"w3", {L, f, d}},
                {"rms_final_weight", {d}},
                {"freq_cis_real", {seqLen, c.headDim / 2}},
                {"freq_cis_imag", {seqLen, c.headDim / 2}}};
    if (!c.tiedEmbeddings) l.arrays.push_back({"wcls", {v, d}});
    // Sizes add up to the file's or the header is wrong; an array larger than the whole file
    // stops the sum before it can overflow.
    const auto limit = static_cast<std::int64_t>(file.size() / 4);
    l.bytes = kHeaderBytes;
    for (const Array& a : l.arrays) {
        const std::int64_t elements = checkedElements(a.shape, limit);
        if (elements < 0 || l.bytes > file.size()) {
            l.bytes = UINT64_MAX;
            break;
        }
        l.bytes += std::uint64_t(elements) * 4;
    }
    if (l.bytes != file.size()) {
        problem = "holds " + std::to_string(file.size()) + " bytes but its llama2.c header (dim " +
                  std::to_string(dim) + ", hidden " + std::to_string(hidden) + ", " +
                  std::to_string(layers) + " layers, vocabulary " + std::to_string(vocab) +
                  ", seq_len " + std::to_string(seqLen) + ") needs " +
                  (l.bytes == UINT64_MAX ? "more" : std::to_string(l.bytes)) +
                  "; the file is truncated or not a llama2.c checkpoint";
        return std::nullopt;
    }
    return l;
}

}  // namespace

bool isLlama2cCheckpoint(const Storage& bytes) {
    std::string problem;
    return layoutOf(bytes, problem).has_value();
}

LlamaCheckpoint readLlama2cCheckpoint(std::shared_ptr<Storage> storage, const std::string& where) {
    std::string problem;
    const std::optional<Layout> layout = layoutOf(*storage, problem);
    if (!layout) throw Error(where + ": " + problem);
    LlamaCheckpoint checkpoint;
    checkpoint.path = where;
    checkpoint.format = "llama2.c";
    checkpoint.config = layout->config;

    // The arrays as the file has them, and each layer's slice of them by role.
    std::uint64_t offset = kHeaderBytes;
    std::vector<std::uint64_t> offsets;
    for (const Array& a : layout->arrays) {
        checkpoint.tensors.push_back({a.name, Tensor(a.shape, DType::F32, storage, offset)});
        offsets.push_back(offset);
        offset += std::uint64_t(shapeElements(a.shape)) * 4;
    }
    const auto whole = [&](std::size_t i) { return checkpoint.tensors[i].tensor; };
    const auto slice = [&](std::size_t i, std::int64_t layer) {
        const Shape& s = layout->arrays[i].shape;
        const Shape one(s.begin() + 1, s.end());
        return Tensor(one, DType::F32, storage,
                      offsets[i] + std::uint64_t(layer * shapeElements(one)) * 4);
    };
    LlamaWeights& w = checkpoint.weights;
    w.embedding = whole(0);
    for (int i = 0; i < checkpoint.config.layers; ++i) {
        LlamaBlockWeights b;
        b.attnNorm = slice(1, i);
        b.q = slice(2, i);
        b.k = slice(3, i);
        b.v = slice(4, i);
        b.o = slice(5, i);
        b.ffnNorm = slice(6, i);
        b.gate = slice(7, i);  // w1
        b.down = slice(8, i);  // w2
        b.up = slice(9, i);    // w3
        w.blocks.push_back(std::move(b));
    }
    w.finalNorm = whole(10);
    w.output = checkpoint.config.tiedEmbeddings ? w.embedding : whole(13);
    // The vocabulary is a separate file: openLlamaCheckpoint reads it (llama2c_tokenizer.h).
    return checkpoint;
}

LlamaCheckpoint openLlama2cCheckpoint(const std::string& path) {
    return readLlama2cCheckpoint(mapFile(path), path);
}

}  // namespace cwb
