// `cwb eval`: accuracy and throughput of a model on the Fashion-MNIST test split with the
// float32 CPU engine, or, with compression options, of the compressed model with kernels
// that exploit the compression (int8, sparse), chosen per layer.
#include <algorithm>
#include <cstdio>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>

#include "app/cwb/command.h"
#include "app/cwb/compression_options.h"
#include "app/cwb/compression_report.h"
#include "app/cwb/device_option.h"
#include "app/cwb/typed_options.h"
#include "core/backend/backend.h"
#include "core/compress/compress_model.h"
#include "core/error.h"
#include "core/infer/compressed_engine.h"
#include "core/infer/engine.h"
#include "core/infer/evaluate.h"
#include "core/io/idx_dataset.h"
#include "core/io/model_loader.h"
#include "core/util/parallel.h"

namespace cwb::cli {
namespace {

struct EvalArgs {
    std::string model;
    std::string data = kDefaultDatasetDir;
    int limit = 0, threads = 0, batch = 512;
    int repeats = 3;  // latency is the median of 3 runs by default
    std::optional<std::string> kernel;
    std::string device = "auto";
    bool json = false;
    bool tf32 = false;
    CompressionArgs compression;
};

int runEval(const EvalArgs& o) {
    const std::string& path = o.model;
    const int limit = o.limit, threads = o.threads, batch = o.batch, repeats = o.repeats;
    const bool compress = o.compression.any();
    const KernelChoice kernel =
        kernelChoice(o.kernel, compress ? KernelChoice::Auto : KernelChoice::Float);
    const CompressionPlan plan = asUsage([&] { return parseCompressionPlan(o.compression); });

    Model model = loadModel(path);
    if (!model.evaluable)
        throw Error(path + " cannot be evaluated: " +
                    (model.notEvaluableReason.empty() ? "it holds no runnable model"
                                                      : model.notEvaluableReason) +
                    "; 'cwb info' can still inspect its tensors");
    const Dataset data = loadFashionMnist(o.data, Split::Test, limit);
    Backend* backend = deviceBackend(o.device);
    if (o.tf32 && backend->name() == "cpu")
        std::fprintf(stderr, "note: --tf32 applies on a GPU; the CPU multiplies in float32\n");

    // The compressed copy and its statistics (an empty plan compresses nothing).
    CompressOptions compressOptions;
    compressOptions.threads = threads;
    compressOptions.backend = backend;
    compressOptions.stats.histograms = false;
    compressOptions.stats.exactLevels =
        false;  // not reported here; float32 layers would need a sort
    const CompressionResult compressed = compressModel(model, plan, compressOptions);

    CompressedEngineOptions engineOptions;
    engineOptions.engine.threads = threads;
    engineOptions.engine.gpuMath = o.tf32 ? GpuMath::Tf32 : GpuMath::Float32;
    engineOptions.backend = backend;
    engineOptions.kernel = kernel;
    engineOptions.grids = &compressed.grids;
    KernelReport report;
    const auto engine = makeCompressedEngine(compressed.model, engineOptions, &report);
    EvalOptions evalOptions;
    evalOptions.batchSize = batch;
    // Latency by running: the whole evaluation `repeats` times, the median.
    std::vector<double> seconds;
    EvalResult result;
    for (int r = 0; r < repeats; ++r) {
        result = evaluate(*engine, data, evalOptions);
        seconds.push_back(result.seconds);
    }
    std::sort(seconds.begin(), seconds.end());
    result.seconds = seconds[seconds.size() / 2];

    const double imagesPerSecond = result.seconds > 0 ? result.samples / result.seconds : 0.0;
    const double gflops = imagesPerSecond * model.flopsPerSample() / 1e9;
    const double latencyMs =
        result.samples > 0 ? result.seconds / result.samples * 1000.0 * 1000.0 : 0.0;
    const int usedThreads = resolveThreads(threads);
    const auto& total = compressed.total;
    if (o.json) {
        Json out{
            {"model", path},
            {"format", model.format},
            {"engine", engine->name()},
            {"threads", usedThreads},
            {"batch", batch},
            {"dataset", data.name},
            {"samples", result.samples},
            {"correct", result.correct},
            {"accuracy", result.accuracy},
            {"seconds", result.seconds},
            {"images_per_second", imagesPerSecond},
            {"flops_per_sample", model.flopsPerSample()},
            {"gflops", gflops},
            {"latency_ms", latencyMs},
            {"latency_unit", "ms per 1000 images, median of " + std::to_string(repeats)},
            {"repeats", repeats},
            {"sparsity", total.weights.sparsity},
            {"size_bytes", total.encodedBytes},
            {"float32_bytes", total.float32Bytes},
            {"compression_ratio", total.ratio},
            {"kernel", kernelChoiceName(kernel)},
            {"kernels", kernelReportJson(report)},
            {"compression", compressionJson(compressed, false)},
        };
        std::cout << out.dump() << "\n";
        return 0;
    }
    std::printf("model:      %s (%s)\n", path.c_str(), model.format.c_str());
    std::printf("engine:     %s, %d thread%s, batch %d\n", engine->name().c_str(), usedThreads,
                usedThreads == 1 ? "" : "s", batch);
    std::printf("data:       %s, %d samples\n", data.name.c_str(), result.samples);
    std::printf("accuracy:   %.4f (%d of %d)\n", result.accuracy, result.correct, result.samples);
    std::printf("seconds:    %.3f%s\n", result.seconds, repeats > 1 ? " (median)" : "");
    std::printf("images/s:   %.0f\n", imagesPerSecond);
    std::printf("latency:    %.1f ms per 1000 images\n", latencyMs);
    std::printf("GFLOP/s:    %.1f (%.2f MFLOP per image)\n", gflops, model.flopsPerSample() / 1e6);
    if (compress) {
        std::printf("sparsity:   %.4f\n", total.weights.sparsity);
        std::printf("size:       %lld bytes (float32 %lld, ratio %.2f)\n",
                    static_cast<long long>(total.encodedBytes),
                    static_cast<long long>(total.float32Bytes), total.ratio);
    }
    if (kernel != KernelChoice::Float) std::printf("%s", report.text().c_str());
    return 0;
}

void declareEval(CLI::App& app, EvalArgs& o) {
    app.add_option("MODEL", o.model, "a Keras .h5 or .keras model")->required();
    addDataOption(app, o.data, "the Fashion-MNIST folder");
    addInteger(app, "--limit", o.limit, 0, 100000000, "test images to use (0 = all)");
    addThreadsOption(app, o.threads);
    addDeviceOption(app, o.device);
    addInteger(app, "--batch", o.batch, 1, 65536, "images per batch");
    addInteger(app, "--repeats", o.repeats, 1, 1000,
               "evaluations; the time reported is their median");
    CLI::Option* kernel = addKernelOption(app, o.kernel);
    kernel->description(kernel->get_description() +
                        "; default float, or auto with compression options");
    app.add_flag("--json", o.json, "print JSON instead of text");
    app.add_flag("--tf32", o.tf32,
                 "on a GPU, multiply on the TF32 tensor cores (faster; results no longer equal "
                 "the CPU's)");
    addCompressionOptions(app, o.compression);
}

const CommandRegistration registration = command<EvalArgs>(
    "eval",
    "accuracy and measured speed on the Fashion-MNIST test set, optionally of the compressed "
    "model",
    declareEval, runEval);

}  // namespace
}  // namespace cwb::cli
