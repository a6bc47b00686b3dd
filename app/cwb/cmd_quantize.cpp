// `cwb quantize CHECKPOINT --format TYPE [--scope blocks|all] -o OUT.gguf [--force]`: the
// model quantized to a llama.cpp format by the workbench's reference quantizers and written
// as a GGUF file that llama.cpp loads (llama-bench, llama-perplexity run the same weights).
#include <cstdio>
#include <filesystem>
#include <memory>

#include "app/cwb/command.h"
#include "app/cwb/device_option.h"
#include "app/cwb/llm_options.h"
#include "app/cwb/typed_options.h"
#include "core/error.h"
#include "core/io/gguf_llama_writer.h"
#include "core/llm/checkpoint_tokenizer.h"
#include "core/llm/llm_compress.h"
#include "core/quant/quant_rows.h"
#include "core/util/parallel.h"

namespace cwb::cli {
namespace {

const char* const kFileFormats =
    "Q8_0, Q6_K, Q5_1, Q5_0, Q5_K, Q4_1, Q4_0, Q4_K, Q3_K, Q2_K, F16 or BF16";

bool isFileFormat(const std::string& name) {
    DType type;
    return parseDType(name, type) && quant::isWeightType(type) && type != DType::F32;
}

struct QuantizeArgs {
    std::string checkpoint, output, format, scope = "blocks";
    int threads = 0;
    std::string device = "auto";
    bool force = false;
};

int runQuantize(const QuantizeArgs& a) {
    namespace fs = std::filesystem;
    std::error_code ec;
    if (!a.force && fs::exists(a.output, ec))
        throw Error(a.output + ": already exists; give --force to replace it");
    DType type;
    parseDType(a.format, type);
    const LlamaCheckpoint checkpoint = openCheckpointVerbose(a.checkpoint);
    const Vocabulary vocabulary = loadCheckpointTokenizer(checkpoint)->vocabulary();

    LlmCompression compression;
    compression.format = type;
    compression.scope = a.scope == "all" ? LlmScope::All : LlmScope::Blocks;
    LlmCompressOptions options;
    options.threads = a.threads;
    options.backend = deviceBackend(a.device);
    options.stats.histograms = false;
    const LlmCompressionResult result =
        compressLlama(checkpoint.config, checkpoint.weights, compression, options);

    GgufLlamaOutput output;
    output.name = fs::path(a.checkpoint).filename().string();
    if (output.name.empty()) output.name = fs::path(a.checkpoint).parent_path().filename().string();
    output.fileType = type;
    output.protectedSource = a.checkpoint;
    writeLlamaGguf(a.output, checkpoint.config, result.weights, vocabulary, output);
    std::printf("%s: %zu tensors in %s (%s), %.2f bits per weight, quantized in %.2f s\n",
                a.output.c_str(), result.tensors.size(), a.format.c_str(),
                a.scope == "all" ? "every 2-D tensor" : "the block matrices", result.bitsPerWeight,
                result.seconds);
    return 0;
}

const CommandRegistration registration{
    "quantize", "write a language model in a llama.cpp format as a GGUF file llama.cpp loads",
    [](CLI::App& app) -> RunFunction {
        auto a = std::make_shared<QuantizeArgs>();
        addCheckpointArgument(app, a->checkpoint);
        app.add_option("--format", a->format, std::string("the format: ") + kFileFormats)
            ->type_name("TYPE")
            ->required()
            ->check(wordIn(isFileFormat, kFileFormats));
        addScopeOption(app, a->scope);
        app.add_option("-o,--output", a->output, "the GGUF file to write")
            ->type_name("OUT.gguf")
            ->required();
        app.add_flag("--force", a->force, "replace the output file if it exists");
        addInteger(app, "--threads", a->threads, 0, kMaxThreads, "worker threads (0 = all cores)");
        addDeviceOption(app, a->device);
        return [a] { return runQuantize(*a); };
    }};

}  // namespace
}  // namespace cwb::cli
