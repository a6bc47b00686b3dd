// Real latency of compressed models: the float32 engine against the int8 engine on the CNN
// fixtures (same compression, accuracy of both), and sparse against dense kernels at 50% and
// 90% unstructured sparsity. Whole test set, median of repeats (the two engines of a row taken
// in turn), threads stated. Arguments: [FIXTURES] [REPEATS] [THREADS] [DATASET_DIR] [int8]
#include <algorithm>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include "bench/support/bench_util.h"
#include "core/compress/compress_model.h"
#include "core/infer/compressed_engine.h"
#include "core/infer/evaluate.h"
#include "core/io/idx_dataset.h"
#include "core/io/model_loader.h"
#include "core/util/parallel.h"

using namespace cwb;
using namespace cwb::bench;

namespace {

struct Timed {
    double accuracy = 0, msPer1000 = 0, cpuMsPer1000 = 0;
};

// Medians of the wall time of the forward passes and of the CPU time of all threads, for two
// engines measured in turn (a, b, a, b, ...) so that both see the same state of the machine.
std::pair<Timed, Timed> runPair(InferenceEngine& a, InferenceEngine& b, const Dataset& data,
                                int repeats) {
    std::vector<double> seconds[2], cpu[2];
    Timed t[2];
    InferenceEngine* engines[2] = {&a, &b};
    for (int r = 0; r < repeats; ++r)
        for (int e = 0; e < 2; ++e) {
            const double c0 = processCpuSeconds();
            const auto result = evaluate(*engines[e], data);
            cpu[e].push_back(processCpuSeconds() - c0);
            seconds[e].push_back(result.seconds);
            t[e].accuracy = result.accuracy;
        }
    for (int e = 0; e < 2; ++e) {
        std::sort(seconds[e].begin(), seconds[e].end());
        std::sort(cpu[e].begin(), cpu[e].end());
        t[e].msPer1000 = seconds[e][seconds[e].size() / 2] / data.size() * 1e6;
        t[e].cpuMsPer1000 = cpu[e][cpu[e].size() / 2] / data.size() * 1e6;
    }
    return {t[0], t[1]};
}

}  // namespace

int main(int argc, char** argv) {
    const std::string fixtures = argc > 1 ? argv[1] : "tests/fixtures/models";
    const int repeats = argc > 2 ? std::atoi(argv[2]) : 5;
    const int threads = argc > 3 ? std::atoi(argv[3]) : resolveThreads(0);
    const Dataset data = loadFashionMnist(argc > 4 ? argv[4] : kDefaultDatasetDir, Split::Test);
    std::printf("threads %d, %d images, median of %d, load %s\n", threads, data.size(), repeats,
                loadAverage().c_str());
    std::printf(
        "ms/1k: wall of the forward passes per 1000 images; cpu: CPU time of all threads per 1000 "
        "images\n");
    EngineOptions eo;
    eo.threads = threads;

    std::printf(
        "\nint8 engine (kernel choice auto: int8 where the codes fit and it measured faster) vs "
        "float32 engine,\n"
        "same compressed weights\n");
    std::printf("%-26s %-18s %8s %8s %10s %10s %8s %10s %10s %8s\n", "model", "compression",
                "f32 acc", "int8 acc", "f32 ms/1k", "int8 ms/1k", "wall x", "f32 cpu", "int8 cpu",
                "cpu x");
    struct Case {
        const char* file;
        float alpha;
        int bits;
    };
    for (const Case c :
         {Case{"k2_cnn_bn_evanchien.h5", 0.01f, 0}, Case{"k2_cnn_bn_evanchien.h5", 0.f, 8},
          Case{"k3_cnn_umer.keras", 0.02f, 0}, Case{"k3_cnn_umer.keras", 0.f, 8}}) {
        const Model model = loadModel(fixtures + "/" + c.file);
        CompressionPlan plan = CompressionPlan::uniform(c.alpha, 0.f);
        if (c.bits) {
            plan.defaults.quant.bits = c.bits;
            plan.defaults.quant.granularity = Granularity::Channel;
        }
        CompressOptions co;
        co.stats.histograms = false;
        const auto compressed = compressModel(model, plan, co);
        auto f32 = makeCpuEngine(compressed.model, eo);
        CompressedEngineOptions options;
        options.engine = eo;
        options.kernel = KernelChoice::Auto;
        options.grids = &compressed.grids;
        KernelReport report;
        auto i8 = makeCompressedEngine(compressed.model, options, &report);
        const auto [a, b] = runPair(*f32, *i8, data, repeats);
        const std::string what =
            c.bits ? "8-bit per channel" : "alpha " + std::to_string(c.alpha).substr(0, 4);
        std::printf("%-26s %-18s %8.4f %8.4f %10.1f %10.1f %7.2fx %10.1f %10.1f %7.2fx\n", c.file,
                    what.c_str(), a.accuracy, b.accuracy, a.msPer1000, b.msPer1000,
                    a.msPer1000 / b.msPer1000, a.cpuMsPer1000, b.cpuMsPer1000,
                    a.cpuMsPer1000 / b.cpuMsPer1000);
        std::printf("    %s\n", report.engine.c_str());
    }

    if (argc > 5 && std::string(argv[5]) == "int8") return 0;  // the int8 table only

    std::printf("\nsparse (CSR) vs dense float32 kernels, unstructured magnitude pruning\n");
    std::printf("%-26s %9s %10s %10s %11s %12s %10s %10s %s\n", "model", "sparsity", "dense acc",
                "sparse acc", "dense ms/1k", "sparse ms/1k", "dense cpu", "sparse cpu",
                "verdict (cpu)");
    for (const char* file :
         {"k2_mlp_dropout_percy.h5", "k2_cnn_bn_evanchien.h5", "k3_cnn_umer.keras"}) {
        const Model model = loadModel(fixtures + "/" + file);
        for (double s : {0.5, 0.9}) {
            CompressionPlan plan;
            plan.defaults.prune.method = PruneMethod::TargetSparsity;
            plan.defaults.prune.sparsity = s;
            CompressOptions co;
            co.stats.histograms = false;
            const auto compressed = compressModel(model, plan, co);
            auto dense = makeCpuEngine(compressed.model, eo);
            CompressedEngineOptions options;
            options.engine = eo;
            options.kernel = KernelChoice::Sparse;
            options.measure = false;
            auto sp = makeCompressedEngine(compressed.model, options);
            const auto [a, b] = runPair(*dense, *sp, data, repeats);
            const double ratio = a.cpuMsPer1000 / b.cpuMsPer1000;
            char verdict[64];
            if (ratio > 1.05)
                std::snprintf(verdict, sizeof verdict, "%.2fx faster", ratio);
            else
                std::snprintf(verdict, sizeof verdict, "no speed-up (%.2fx)", ratio);
            std::printf("%-26s %8.0f%% %10.4f %10.4f %11.1f %12.1f %10.1f %10.1f %s\n", file,
                        s * 100, a.accuracy, b.accuracy, a.msPer1000, b.msPer1000, a.cpuMsPer1000,
                        b.cpuMsPer1000, verdict);
        }
    }
    std::printf("\nload after: %s\n", loadAverage().c_str());
    return 0;
}
