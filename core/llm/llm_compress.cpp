// Compression of Llama weights; see llm_compress.h.
#include "core/llm/llm_compress.h"

#include <chrono>
#include <cmath>
#include <limits>

#include "core/compress/compress_model.h"
#include "core/error.h"
#include "core/llm/linear.h"
#include "core/llm/llama_forward.h"
#include "core/util/parallel.h"

namespace cwb {

namespace {

struct Projection {
    const char* role;
    Tensor LlamaBlockWeights::*member;
};

constexpr Projection kProjections[] = {
    {"attn_q", &LlamaBlockWeights::q},      {"attn_k", &LlamaBlockWeights::k},
    {"attn_v", &LlamaBlockWeights::v},      {"attn_output", &LlamaBlockWeights::o},
    {"ffn_gate", &LlamaBlockWeights::gate}, {"ffn_up", &LlamaBlockWeights::up},
    {"ffn_down", &LlamaBlockWeights::down},
};

// A [out, in] matrix of any dtype as a Keras Dense kernel: float32 (in, out).
Tensor toDenseKernel(const Tensor& w, int threads) {
    const std::int64_t out = w.shape()[0], in = w.shape()[1];
    std::vector<float> kernel(static_cast<std::size_t>(out * in));
    parallelFor(out, threads, [&](long long begin, long long end, int) {
        std::vector<float> row(static_cast<std::size_t>(in));
        for (long long o = begin; o < end; ++o) {
            tensorRowToFloat(w, o, row.data());
            for (std::int64_t i = 0; i < in; ++i)
                kernel[static_cast<std::size_t>(i * out + o)] = row[static_cast<std::size_t>(i)];
        }
    });
    return Tensor::fromFloats({in, out}, std::move(kernel));
}

// A Dense kernel (in, out) back to a [out, in] float32 matrix.
Tensor fromDenseKernel(const Tensor& kernel) {
    const std::int64_t in = kernel.shape()[0], out = kernel.shape()[1];
    const auto src = kernel.floats();
    std::vector<float> w(src.size());
    for (std::int64_t i = 0; i < in; ++i)
        for (std::int64_t o = 0; o < out; ++o)
            w[static_cast<std::size_t>(o * in + i)] = src[static_cast<std::size_t>(i * out + o)];
    return Tensor::fromFloats({out, in}, std::move(w));
}

double bitsPerWeight(const TensorStats& s) {
    return s.elements ? 8.0 * static_cast<double>(s.size.bytes) / static_cast<double>(s.elements)
                      : 0.0;
}

// The workbench's schemes on the block matrices: each one a Dense layer of a Model handed to
// compressModel, so that semantics and statistics are the Keras ones by construction.
LlmCompressionResult compressWithPlan(const LlamaConfig& config, const LlamaWeights& weights,
                                      const LayerSettings& settings,
                                      const LlmCompressOptions& options, const Progress& progress) {
    const int threads = resolveThreads(options.threads);
    Model model;
    model.sourcePath = "the language model";
    model.format = "Llama block matrices";
    for (int layer = 0; layer < config.layers; ++layer)
        for (const Projection& p : kProjections) {
            const Tensor& w = weights.blocks[static_cast<std::size_t>(layer)].*p.member;
            Layer dense;
            dense.name = llamaTensorName(p.role, layer);
            dense.className = "Dense";
            dense.kind = LayerKind::Dense;
            dense.units = static_cast<int>(w.shape()[0]);
            dense.useBias = false;
            dense.kernel = toDenseKernel(w, threads);
            model.layers.push_back(std::move(dense));
        }
    CompressionPlan plan;
    plan.defaults = settings;
    CompressOptions compressOptions;
    compressOptions.stats = options.stats;
    compressOptions.threads = threads;
    CompressionResult compressed = compressModel(model, plan, compressOptions, progress);

    LlmCompressionResult result;
    result.weights = weights;
    std::size_t k = 0;
    for (int layer = 0; layer < config.layers; ++layer)
        for (const Projection& p : kProjections) {
            Tensor& target = result.weights.blocks[static_cast<std::size_t>(layer)].*p.member;
            const Tensor& kernel = compressed.model.layers[k].kernel;
            LlmTensorReport report;
            report.name = model.layers[k].name;
            report.shape = target.shape();
            report.original = target.dtype();
            if (kernel.bytes() != model.layers[k].kernel.bytes()) {  // changed
                target = fromDenseKernel(kernel);
                report.stored = DType::F32;
            } else {
                report.stored = report.original;
            }
            report.stats = std::move(compressed.layers[k].kernel);
            report.bitsPerWeight = bitsPerWeight(report.stats);
            result.tensors.push_back(std::move(report));
            ++k;
        }
    result.total = compressed.total.weights;
    result.bitsPerWeight = bitsPerWeight(result.total);
    return result;
}

}  // namespace

std::string llamaTensorName(const std::string& role, int layer) {
    return layer < 0 ? role + ".weight" : "blk." + std::to_string(layer) + "." + role + ".weight";
}

LlmCompressionResult compressLlama(const LlamaConfig& config, const LlamaWeights& weights,
                                   const LlmCompression& compression,
                                   const LlmCompressOptions& options, const Progress& progress) {
    const auto start = std::chrono::steady_clock::now();
    validateLlama(config, weights);
    LlmCompressionResult result;
    if (compression.format) {
        throw Error("compression: block format " + dtypeName(*compression.format) +
                    " is not available in this build");
    } else {
        result = compressWithPlan(config, weights, compression.settings, options, progress);
    }
    result.seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return result;
}

}  // namespace cwb
