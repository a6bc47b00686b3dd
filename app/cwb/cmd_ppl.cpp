// `cwb ppl CHECKPOINT [--text FILE] [--ctx N] [--alpha X --rho X | --format Q4_K --scope S]
// [--kl] [--json]`: perplexity by llama-perplexity's protocol, progressively, of the model as
// stored or compressed, and with --kl its KL divergence from the original.
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>

#include "app/cwb/command.h"
#include "app/cwb/device_option.h"
#include "app/cwb/llm_options.h"
#include "app/cwb/typed_options.h"
#include "core/backend/backend.h"
#include "core/error.h"
#include "core/llm/checkpoint_tokenizer.h"
#include "core/llm/perplexity.h"
#include "core/util/parallel.h"

namespace cwb::cli {
namespace {

struct PplArgs {
    std::string checkpoint, text;
    int context = 256, limit = 0, threads = 0;
    std::string device = "auto";
    bool kl = false, json = false;
    LlmCompressionArgs compression;
};

std::string readText(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw Error(path + ": cannot read the text file");
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

int runPpl(const PplArgs& a) {
    if (a.kl && !a.compression.any())
        throw UsageError(
            "--kl compares a compressed model with its original: add --alpha, "
            "--rho or --format");
    const LlmCompression compression = llmCompression(a.compression);
    const LlamaCheckpoint checkpoint = openCheckpointVerbose(a.checkpoint);
    const std::string textPath =
        a.text.empty() ? shippedResource("llm/eval_revelation.txt") : a.text;
    const auto tokenizer = loadCheckpointTokenizer(checkpoint);
    const std::vector<int> ids = tokenizer->encode(readText(textPath), true);
    const std::vector<std::int32_t> tokens(ids.begin(), ids.end());

    Backend* backend = deviceBackend(a.device);
    LlamaWeights weights = checkpoint.weights;
    double bitsPerWeight = 0;
    if (a.compression.any()) {
        LlmCompressOptions options;
        options.threads = a.threads;
        options.backend = backend;
        options.stats.histograms = false;  // not shown; a pass over every weight less
        options.stats.exactLevels = false;
        const LlmCompressionResult result =
            compressLlama(checkpoint.config, checkpoint.weights, compression, options);
        weights = result.weights;
        bitsPerWeight = result.bitsPerWeight;
        std::fprintf(stderr, "compressed %zu tensors (%s): %.2f bits per weight, %.2f s\n",
                     result.tensors.size(), describeCompression(a.compression).c_str(),
                     bitsPerWeight, result.seconds);
    }

    PerplexityOptions options;
    options.context = a.context;
    options.threads = a.threads;
    options.maxChunks = a.limit;
    options.backend = backend;
    options.bos = tokenizer->bos();
    if (a.kl) options.reference = &checkpoint.weights;
    const bool live = isatty(STDERR_FILENO);
    options.onChunk = [live](const PerplexityStats& s) {
        if (live)
            std::fprintf(stderr, "\r[%d/%d] perplexity %.4f ± %.4f   ", s.chunks, s.totalChunks,
                         s.perplexity, s.perplexityError);
    };
    const PerplexityResult result = measurePerplexity(checkpoint.config, weights, tokens, options);
    if (live) std::fprintf(stderr, "\n");
    const PerplexityStats& s = result.stats;

    if (a.json) {
        nlohmann::ordered_json out{{"checkpoint", a.checkpoint},
                                   {"format", checkpoint.format},
                                   {"text", textPath},
                                   {"compression", describeCompression(a.compression)},
                                   {"context", a.context},
                                   {"chunks", s.chunks},
                                   {"scoredTokens", s.scored},
                                   {"perplexity", s.perplexity},
                                   {"perplexityError", s.perplexityError},
                                   {"low95", s.low},
                                   {"high95", s.high},
                                   {"seconds", result.seconds},
                                   {"tokensPerSecond", result.tokensPerSecond}};
        if (a.compression.any()) out["bitsPerWeight"] = bitsPerWeight;
        if (s.hasKl) {
            out["meanKl"] = s.meanKl;
            out["klError"] = s.klError;
            out["sameTop"] = s.sameTop;
            out["sameTopError"] = s.sameTopError;
        }
        std::printf("%s\n", out.dump(2).c_str());
        return 0;
    }
    std::printf(
        "perplexity %.4f ± %.4f (95 %% interval %.4f to %.4f): %lld tokens scored in %d "
        "chunks of %d\n",
        s.perplexity, s.perplexityError, s.low, s.high, s.scored, s.chunks, a.context);
    if (s.hasKl)
        std::printf("KL divergence %.6f ± %.6f; same top token %.2f %% ± %.2f %%\n", s.meanKl,
                    s.klError, 100 * s.sameTop, 100 * s.sameTopError);
    const std::string where = options.backend->name() == "cpu"
                                  ? std::to_string(resolveThreads(a.threads)) + " threads"
                                  : options.backend->name();
    std::printf("%s, %.2f s (%.0f tokens/s, %s)\n", describeCompression(a.compression).c_str(),
                result.seconds, result.tokensPerSecond, where.c_str());
    return 0;
}

void declarePpl(CLI::App& app, PplArgs& a) {
    addCheckpointArgument(app, a.checkpoint);
    app.add_option("--text", a.text,
                   "the text to score (default: the Book of Revelation, resources/llm)")
        ->type_name("FILE");
    addInteger(app, "--ctx", a.context, 4, 1 << 20, "tokens per chunk (n_ctx)");
    addInteger(app, "--limit", a.limit, 0, 1 << 30, "score at most N chunks (0 = all)");
    addLlmCompressionOptions(app, a.compression);
    app.add_flag("--kl", a.kl,
                 "also the KL divergence and same-top-token rate against the original");
    app.add_flag("--json", a.json, "print the result as JSON");
    addThreadsOption(app, a.threads);
    addDeviceOption(app, a.device);
}

const CommandRegistration registration = command<PplArgs>(
    "ppl", "perplexity of a language model (llama-perplexity's protocol), compressed or not",
    declarePpl, runPpl);

}  // namespace
}  // namespace cwb::cli
