// `cwb bench CHECKPOINT [--format TYPE] [-p 64] [-n 16] [--threads N]`: prefill and generation
// tokens/s as llama-bench measures them, on the packed kernels of the stored or compressed
// weights, with the bytes read per generated token against a read bandwidth of the same run.
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>

#include "app/cwb/command.h"
#include "app/cwb/device_option.h"
#include "app/cwb/llm_options.h"
#include "app/cwb/typed_options.h"
#include "core/llm/llm_speed.h"

namespace cwb::cli {
namespace {

struct BenchArgs {
    std::string checkpoint;
    int prompt = 64, generate = 16, threads = 0, repetitions = 3;
    std::string device = "auto";
    bool json = false;
    LlmCompressionArgs compression;
};

int runBench(const BenchArgs& a) {
    llmCompression(a.compression);  // usage errors before the checkpoint is opened
    const LlamaCheckpoint checkpoint = openCheckpointVerbose(a.checkpoint);
    Backend* backend = deviceBackend(a.device);
    const LlamaWeights weights = compressedWeights(checkpoint, a.compression, a.threads, backend);
    SpeedOptions options;
    options.promptTokens = a.prompt;
    options.generateTokens = a.generate;
    options.threads = a.threads;
    options.repetitions = a.repetitions;
    options.backend = backend;
    const SpeedResult r = measureSpeed(checkpoint.config, weights, options);
    if (a.json) {
        const nlohmann::ordered_json out{{"checkpoint", a.checkpoint},
                                         {"compression", describeCompression(a.compression)},
                                         {"device", r.device},
                                         {"threads", r.threads},
                                         {"promptTokens", a.prompt},
                                         {"generateTokens", a.generate},
                                         {"prefillTokensPerSecond", r.prefillTokensPerSecond},
                                         {"generateTokensPerSecond", r.generateTokensPerSecond},
                                         {"weightBytesPerToken", r.weightBytesPerToken},
                                         {"readBandwidth", r.readBandwidth},
                                         {"bandwidthFraction", r.bandwidthFraction}};
        std::printf("%s\n", out.dump(2).c_str());
        return 0;
    }
    const std::string where = r.device == "cpu" ? std::to_string(r.threads) + " threads" : r.device;
    std::printf("%s, %s, median of %d\n", describeCompression(a.compression).c_str(), where.c_str(),
                a.repetitions);
    if (a.prompt > 0)
        std::printf("prefill pp%d   %10.1f tokens/s\n", a.prompt, r.prefillTokensPerSecond);
    if (a.generate > 0) {
        std::printf("generate tg%d  %10.1f tokens/s\n", a.generate, r.generateTokensPerSecond);
        std::printf(
            "weights read per token %.1f MB: %.1f GB/s, %.0f %% of the %.1f GB/s read "
            "bandwidth measured now\n",
            r.weightBytesPerToken / 1e6, r.weightBytesPerToken * r.generateTokensPerSecond / 1e9,
            100 * r.bandwidthFraction, r.readBandwidth / 1e9);
    }
    return 0;
}

void declareBench(CLI::App& app, BenchArgs& a) {
    addCheckpointArgument(app, a.checkpoint);
    addInteger(app, "-p,--prompt", a.prompt, 0, 1 << 16, "prefill test: tokens (0 = skip)");
    addInteger(app, "-n,--generate", a.generate, 0, 1 << 16, "generation test: tokens (0 = skip)");
    addInteger(app, "-r,--repetitions", a.repetitions, 1, 1000, "runs; the median is shown");
    addLlmCompressionOptions(app, a.compression);
    addThreadsOption(app, a.threads);
    addDeviceOption(app, a.device);
    app.add_flag("--json", a.json, "print the result as JSON");
}

const CommandRegistration registration = command<BenchArgs>(
    "bench", "prefill and generation tokens/s of a language model on the real kernels",
    declareBench, runBench);

}  // namespace
}  // namespace cwb::cli
