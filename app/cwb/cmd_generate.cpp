// `cwb generate CHECKPOINT --prompt TEXT [-n N] [compression]`: greedy text from a prompt,
// printed as it comes, from the model as stored or compressed.
#include <cstdio>
#include <memory>

#include "app/cwb/command.h"
#include "app/cwb/device_option.h"
#include "app/cwb/llm_options.h"
#include "app/cwb/typed_options.h"
#include "core/llm/checkpoint_tokenizer.h"
#include "core/llm/generate.h"

namespace cwb::cli {
namespace {

struct GenerateArgs {
    std::string checkpoint, prompt;
    int tokens = 32, threads = 0;
    std::string device = "auto";
    LlmCompressionArgs compression;
};

int runGenerate(const GenerateArgs& a) {
    llmCompression(a.compression);  // usage errors before the checkpoint is opened
    const LlamaCheckpoint checkpoint = openCheckpointVerbose(a.checkpoint);
    const auto tokenizer = loadCheckpointTokenizer(checkpoint);
    Backend* backend = deviceBackend(a.device);
    const LlamaWeights weights = compressedWeights(checkpoint, a.compression, a.threads, backend);
    const std::vector<int> ids = tokenizer->encode(a.prompt, true);
    const std::vector<std::int32_t> prompt(ids.begin(), ids.end());

    GenerateOptions options;
    options.maxTokens = a.tokens;
    options.threads = a.threads;
    options.backend = backend;
    options.stopTokens = {tokenizer->eos()};
    int previous = prompt.back();
    options.onToken = [&](std::int32_t id) {
        std::fputs(tokenizer->tokenText(previous, id).c_str(), stdout);
        std::fflush(stdout);
        previous = id;
    };
    std::fputs(a.prompt.c_str(), stdout);
    const GenerateResult result = generateGreedy(checkpoint.config, weights, prompt, options);
    std::fputs("\n", stdout);
    const double perToken =
        result.tokens.empty() ? 0 : result.generateSeconds / double(result.tokens.size());
    std::fprintf(stderr, "%zu tokens (%s), prompt %.1f ms, %.1f tokens/s\n", result.tokens.size(),
                 describeCompression(a.compression).c_str(), 1000 * result.promptSeconds,
                 perToken > 0 ? 1 / perToken : 0.0);
    return 0;
}

void declareGenerate(CLI::App& app, GenerateArgs& a) {
    addCheckpointArgument(app, a.checkpoint);
    app.add_option("--prompt", a.prompt, "the text to continue")->type_name("TEXT")->required();
    addInteger(app, "-n,--tokens", a.tokens, 1, 1 << 20, "tokens to generate at most");
    addLlmCompressionOptions(app, a.compression);
    addThreadsOption(app, a.threads);
    addDeviceOption(app, a.device);
}

const CommandRegistration registration = command<GenerateArgs>(
    "generate", "greedy text from a prompt with a language model, compressed or not",
    declareGenerate, runGenerate);

}  // namespace
}  // namespace cwb::cli
