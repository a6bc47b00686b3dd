// Text and JSON of a checkpoint's description (see checkpoint_report.h).
#include "app/cwb/checkpoint_report.h"

#include <cstdio>

namespace cwb::cli {

namespace {

const char* ropeName(RopeLayout layout) {
    return layout == RopeLayout::RotateHalf ? "rotate-half (Hugging Face)"
                                            : "adjacent pairs (llama.cpp, llama2.c)";
}

}  // namespace

void printCheckpoint(const CheckpointInfo& info) {
    const LlamaConfig& c = info.config;
    std::printf("file:            %s\n", info.path.c_str());
    std::printf("format:          %s\n", info.format.c_str());
    std::printf(
        "architecture:    %s: hidden %d, intermediate %d, %d layers, %d heads (%d kv, "
        "head dim %d), vocab %d\n",
        info.architecture.c_str(), c.hiddenSize, c.intermediateSize, c.layers, c.heads, c.kvHeads,
        c.headDim, c.vocabSize);
    std::printf("                 RMSNorm eps %g, RoPE theta %g, %s; context %d; %s embeddings\n",
                c.rmsNormEps, c.ropeTheta, ropeName(c.rope), c.maxSequence,
                c.tiedEmbeddings ? "tied" : "untied");
    if (info.vocabularyPieces > 0)
        std::printf("tokenizer:       embedded vocabulary of %d pieces\n", info.vocabularyPieces);
    else if (!info.tokenizerModelPath.empty())
        std::printf("tokenizer:       %s\n", info.tokenizerModelPath.c_str());
    std::printf("tensors:         %zu\n", info.tensors.size());
    std::printf("  %-44s %-6s %-16s %14s %14s\n", "name", "dtype", "shape", "elements", "bytes");
    for (const auto& t : info.tensors)
        std::printf("  %-44s %-6s %-16s %14llu %14llu\n", t.name.c_str(),
                    dtypeName(t.dtype).c_str(), shapeToString(t.shape).c_str(),
                    static_cast<unsigned long long>(t.elements),
                    static_cast<unsigned long long>(t.bytes));
    for (const auto& d : info.byDType)
        std::printf("%-6s           %d tensors, %llu weights, %.1f MB\n",
                    dtypeName(d.dtype).c_str(), d.tensors,
                    static_cast<unsigned long long>(d.elements), d.bytes / 1e6);
    std::printf("total:           %llu weights, %.1f MB, %.2f bits per weight\n",
                static_cast<unsigned long long>(info.elements), info.bytes / 1e6,
                info.bitsPerWeight);
}

nlohmann::ordered_json checkpointJson(const CheckpointInfo& info) {
    const LlamaConfig& c = info.config;
    nlohmann::ordered_json tensors = nlohmann::ordered_json::array();
    for (const auto& t : info.tensors)
        tensors.push_back({{"name", t.name},
                           {"dtype", dtypeName(t.dtype)},
                           {"shape", t.shape},
                           {"elements", t.elements},
                           {"bytes", t.bytes}});
    return {{"file", info.path},
            {"format", info.format},
            {"architecture", info.architecture},
            {"config",
             {{"hiddenSize", c.hiddenSize},
              {"intermediateSize", c.intermediateSize},
              {"layers", c.layers},
              {"heads", c.heads},
              {"kvHeads", c.kvHeads},
              {"headDim", c.headDim},
              {"vocabSize", c.vocabSize},
              {"rmsNormEps", c.rmsNormEps},
              {"ropeTheta", c.ropeTheta},
              {"tiedEmbeddings", c.tiedEmbeddings}}},
            {"tensors", tensors},
            {"elements", info.elements},
            {"bytes", info.bytes},
            {"bitsPerWeight", info.bitsPerWeight}};
}

}  // namespace cwb::cli
