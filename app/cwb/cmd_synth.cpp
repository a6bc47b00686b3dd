// `cwb synth --shape tinyllama|llama7b|small -o DIR`: a Hugging Face Llama folder of that
// shape with random bf16 weights, for speed and scale tests.
#include <unistd.h>

#include <cstdio>
#include <memory>

#include "app/cwb/command.h"
#include "app/cwb/llm_options.h"
#include "app/cwb/typed_options.h"
#include "core/llm/synthetic_checkpoint.h"

namespace cwb::cli {
namespace {

struct SynthArgs {
    std::string shape, output;
    long long seed = 1;
};

int runSynth(const SynthArgs& a) {
    const LlamaConfig config = asUsage([&] { return syntheticShape(a.shape); });
    SyntheticCheckpointOptions options;
    options.seed = static_cast<std::uint64_t>(a.seed);
    options.tokenizerModel = shippedResource("llm/tokenizer.model");
    const double gigabytes = syntheticCheckpointBytes(config) / 1e9;
    const bool live = isatty(STDERR_FILENO);
    Progress progress{[&](long long done, long long total) {
        if (live && total > 0)
            std::fprintf(stderr, "\rwriting %s: %.1f of %.1f GB", a.output.c_str(), done / 1e9,
                         total / 1e9);
        return true;
    }};
    writeSyntheticCheckpoint(config, a.output, options, progress);
    if (live) std::fprintf(stderr, "\n");
    std::printf(
        "wrote %s: %s shape (hidden %d, %d layers, %d heads, %d kv heads, vocab %d), "
        "%.2f GB of bf16 weights\n",
        a.output.c_str(), a.shape.c_str(), config.hiddenSize, config.layers, config.heads,
        config.kvHeads, config.vocabSize, gigabytes);
    return 0;
}

void declareSynth(CLI::App& app, SynthArgs& a) {
    app.add_option("--shape", a.shape, "tinyllama (1.1 B), llama7b (6.7 B) or small (6.6 M)")
        ->type_name("SHAPE")
        ->required();
    app.add_option("-o,--output", a.output, "the folder to create (must not exist)")
        ->type_name("DIR")
        ->required();
    addInteger(app, "--seed", a.seed, 0, (1LL << 62), "random seed");
}

const CommandRegistration registration = command<SynthArgs>(
    "synth", "write a random-weight Llama checkpoint of a real shape (Hugging Face folder)",
    declareSynth, runSynth);

}  // namespace
}  // namespace cwb::cli
