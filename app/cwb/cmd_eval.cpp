// `cwb eval`: accuracy and throughput of a model on the Fashion-MNIST test split with the
// float32 CPU engine.
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>

#include "app/cwb/command.h"
#include "core/error.h"
#include "core/infer/engine.h"
#include "core/infer/evaluate.h"
#include "core/io/idx_dataset.h"
#include "core/io/model_loader.h"
#include "core/util/parallel.h"

namespace cwb::cli {
namespace {

int nonNegative(const Args& args, const std::string& option, int fallback, int minimum) {
    const int value = args.integer(option, fallback);
    if (value < minimum)
        throw Error("option --" + option + " must be at least " + std::to_string(minimum) + ", got " +
                    std::to_string(value));
    return value;
}

int runEval(const Args& args) {
    args.allowOnly({"data", "limit", "threads", "batch", "json"});
    if (args.positional().size() != 1) throw Error("expects one MODEL file; usage: cwb eval MODEL [options]");
    const std::string path = args.positional()[0];
    const int limit = nonNegative(args, "limit", 0, 0);
    const int threads = nonNegative(args, "threads", 0, 0);
    const int batch = nonNegative(args, "batch", 512, 1);

    const Model model = loadModel(path);
    if (!model.evaluable)
        throw Error(path + " cannot be evaluated: " +
                    (model.notEvaluableReason.empty() ? "it holds no runnable model" : model.notEvaluableReason) +
                    "; 'cwb info' can still inspect its tensors");
    const Dataset data = loadFashionMnist(args.text("data", kDefaultDatasetDir), Split::Test, limit);

    EngineOptions engineOptions;
    engineOptions.threads = threads;
    const auto engine = makeCpuEngine(model, engineOptions);
    EvalOptions evalOptions;
    evalOptions.batchSize = batch;
    const EvalResult result = evaluate(*engine, data, evalOptions);

    const double imagesPerSecond = result.seconds > 0 ? result.samples / result.seconds : 0.0;
    const double gflops = imagesPerSecond * model.flopsPerSample() / 1e9;
    const int usedThreads = resolveThreads(threads);
    if (args.has("json")) {
        const nlohmann::json out{
            {"model", path},          {"format", model.format},
            {"engine", engine->name()}, {"threads", usedThreads},
            {"batch", batch},         {"dataset", data.name},
            {"samples", result.samples}, {"correct", result.correct},
            {"accuracy", result.accuracy}, {"seconds", result.seconds},
            {"images_per_second", imagesPerSecond}, {"flops_per_sample", model.flopsPerSample()},
            {"gflops", gflops},
        };
        std::cout << out.dump() << "\n";
        return 0;
    }
    std::printf("model:      %s (%s)\n", path.c_str(), model.format.c_str());
    std::printf("engine:     %s, %d thread%s, batch %d\n", engine->name().c_str(), usedThreads,
                usedThreads == 1 ? "" : "s", batch);
    std::printf("data:       %s, %d samples\n", data.name.c_str(), result.samples);
    std::printf("accuracy:   %.4f (%d of %d)\n", result.accuracy, result.correct, result.samples);
    std::printf("seconds:    %.3f\n", result.seconds);
    std::printf("images/s:   %.0f\n", imagesPerSecond);
    std::printf("GFLOP/s:    %.1f (%.2f MFLOP per image)\n", gflops, model.flopsPerSample() / 1e6);
    return 0;
}

const CommandRegistration registration{{
    "eval",
    "eval MODEL [--data DIR] [--limit N] [--threads N] [--batch N] [--json]",
    "accuracy and speed on the Fashion-MNIST test set (float32 CPU engine)",
    {"json"},
    runEval,
}};

}  // namespace
}  // namespace cwb::cli
