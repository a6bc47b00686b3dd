// Options shared by the language-model commands (see llm_options.h).
#include "app/cwb/llm_options.h"

#include <unistd.h>

#include <cstdio>
#include <filesystem>

#include "app/cwb/command.h"
#include "app/cwb/typed_options.h"
#include "core/io/llama_checkpoint.h"

namespace cwb::cli {

namespace fs = std::filesystem;

namespace {

const char* const kFormats = "Q8_0, Q6_K, Q5_1, Q5_0, Q5_K, Q4_1, Q4_0, Q4_K, Q3_K or Q2_K";

bool isWeightFormat(const std::string& name) {
    DType type;
    return parseDType(name, type) && dtypeIsBlock(type) && type != DType::Q8_1 &&
           type != DType::Q8_K;
}

}  // namespace

void addLlmCompressionOptions(CLI::App& app, LlmCompressionArgs& args) {
    addNumber(app, "--alpha", args.alpha, Interval::rightOpen(0, 1e6),
              "quantization step of the block matrices: W' = round(W/alpha)*alpha (0 = off)");
    addNumber(app, "--rho", args.rho, Interval::rightOpen(0, 1e6),
              "pruning threshold of the block matrices: |W| < rho becomes 0 (0 = off)");
    app.add_option("--format", args.format,
                   std::string("a llama.cpp block format instead: ") + kFormats)
        ->type_name("TYPE")
        ->check(wordIn(isWeightFormat, kFormats));
    addScopeOption(app, args.scope);
}

void addScopeOption(CLI::App& app, std::string& scope) {
    app.add_option("--scope", scope,
                   "what --format quantizes: blocks (the 7 matrices of every block) or all "
                   "(every 2-D tensor, as llama-quantize --pure)")
        ->type_name("blocks|all")
        ->check(wordIn([](const std::string& s) { return s == "blocks" || s == "all"; },
                       "blocks or all"))
        ->capture_default_str();
}

LlmCompression llmCompression(const LlmCompressionArgs& args) {
    LlmCompression c;
    if (!args.format.empty()) {
        if (args.alpha > 0 || args.rho > 0)
            throw UsageError("--format replaces --alpha and --rho; give one or the other");
        DType type;
        parseDType(args.format, type);
        c.format = type;
        c.scope = args.scope == "all" ? LlmScope::All : LlmScope::Blocks;
        return c;
    }
    c.settings.quant.alpha = static_cast<float>(args.alpha);
    c.settings.prune.rho = static_cast<float>(args.rho);
    return c;
}

std::string describeCompression(const LlmCompressionArgs& args) {
    if (!args.format.empty())
        return args.format +
               (args.scope == "all" ? " on every 2-D tensor" : " on the block matrices");
    if (!args.any()) return "as stored";
    char text[96];
    std::snprintf(text, sizeof text, "alpha %g, rho %g on the block matrices", args.alpha,
                  args.rho);
    return text;
}

void addCheckpointArgument(CLI::App& app, std::string& path) {
    app.add_option("checkpoint", path, "a Hugging Face folder, a .gguf file or a llama2.c .bin")
        ->type_name("CHECKPOINT")
        ->required();
}

LlamaWeights compressedWeights(const LlamaCheckpoint& checkpoint, const LlmCompressionArgs& args,
                               int threads, Backend* backend) {
    if (!args.any()) return checkpoint.weights;
    LlmCompressOptions options;
    options.threads = threads;
    options.backend = backend;
    options.stats.histograms = false;  // only the weights are used
    options.stats.exactLevels = false;
    return compressLlama(checkpoint.config, checkpoint.weights, llmCompression(args), options)
        .weights;
}

LlamaCheckpoint openCheckpointVerbose(const std::string& path) {
    LlamaCheckpoint checkpoint = openLlamaCheckpoint(path);
    const LlamaConfig& c = checkpoint.config;
    std::fprintf(stderr, "%s: %s, %s: hidden %d, %d layers, %d heads (%d kv), vocab %d\n",
                 path.c_str(), checkpoint.format.c_str(), c.architecture.c_str(), c.hiddenSize,
                 c.layers, c.heads, c.kvHeads, c.vocabSize);
    return checkpoint;
}

std::string shippedResource(const std::string& relative) {
    std::error_code ignored;
    const fs::path exe = fs::read_symlink("/proc/self/exe", ignored).parent_path();
    for (const fs::path& base :
         {exe / "../resources", exe / "../../resources", fs::path(CWB_SOURCE_DIR) / "resources",
          exe / "../share/compression-workbench"}) {
        const fs::path candidate = base / relative;
        if (fs::is_regular_file(candidate)) return fs::weakly_canonical(candidate).string();
    }
    throw Error("the project's file resources/" + relative +
                " is missing; reinstall, or name a file with the option");
}

}  // namespace cwb::cli
