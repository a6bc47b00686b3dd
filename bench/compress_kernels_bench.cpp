// Real latency of compressed models: the float32 engine against the int8 engine on the CNN
// fixtures (same compression, accuracy of both), and sparse against dense kernels at 50% and
// 90% unstructured sparsity. Whole test set, median of repeats, threads stated.
#include <algorithm>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "core/compress/compress_model.h"
#include "core/infer/compressed_engine.h"
#include "core/infer/evaluate.h"
#include "core/io/idx_dataset.h"
#include "core/io/model_loader.h"
#include "core/util/parallel.h"

using namespace cwb;

namespace {

std::string loadAverage() {
    std::ifstream f("/proc/loadavg");
    std::string a, b, c;
    f >> a >> b >> c;
    return a + " " + b + " " + c;
}

struct Timed {
    double accuracy = 0, msPer1000 = 0;
};

Timed run(InferenceEngine& engine, const Dataset& data, int repeats) {
    std::vector<double> seconds;
    Timed t;
    for (int r = 0; r < repeats; ++r) {
        const auto result = evaluate(engine, data);
        seconds.push_back(result.seconds);
        t.accuracy = result.accuracy;
    }
    std::sort(seconds.begin(), seconds.end());
    t.msPer1000 = seconds[seconds.size() / 2] / data.size() * 1000.0 * 1000.0;
    return t;
}

}  // namespace

int main(int argc, char** argv) {
    const std::string fixtures = argc > 1 ? argv[1] : "tests/fixtures/models";
    const int repeats = argc > 2 ? std::atoi(argv[2]) : 5;
    const int threads = argc > 3 ? std::atoi(argv[3]) : resolveThreads(0);
    const Dataset data = loadFashionMnist(argc > 4 ? argv[4] : kDefaultDatasetDir, Split::Test);
    std::printf("threads %d, %d images, median of %d, load %s\n", threads, data.size(), repeats, loadAverage().c_str());
    EngineOptions eo;
    eo.threads = threads;

    std::printf("\nint8 vs float32 (same compressed weights)\n");
    std::printf("%-26s %-22s %10s %10s %10s %10s %8s\n", "model", "compression", "f32 acc", "int8 acc", "f32 ms/1k",
                "int8 ms/1k", "speed-up");
    struct Case {
        const char* file;
        float alpha;
        int bits;
    };
    for (const Case c : {Case{"k2_cnn_bn_evanchien.h5", 0.01f, 0}, Case{"k2_cnn_bn_evanchien.h5", 0.f, 8},
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
        options.kernel = KernelChoice::Int8;
        options.grids = &compressed.grids;
        options.measure = false;
        auto i8 = makeCompressedEngine(compressed.model, options);
        const Timed a = run(*f32, data, repeats), b = run(*i8, data, repeats);
        const std::string what = c.bits ? "8-bit per channel" : "alpha " + std::to_string(c.alpha).substr(0, 4);
        std::printf("%-26s %-22s %10.4f %10.4f %10.1f %10.1f %7.2fx\n", c.file, what.c_str(), a.accuracy, b.accuracy,
                    a.msPer1000, b.msPer1000, a.msPer1000 / b.msPer1000);
    }

    std::printf("\nsparse (CSR) vs dense float32 kernels, unstructured magnitude pruning\n");
    std::printf("%-26s %9s %10s %10s %10s %10s %s\n", "model", "sparsity", "dense acc", "sparse acc", "dense ms/1k",
                "sparse ms/1k", "verdict");
    for (const char* file : {"k2_mlp_dropout_percy.h5", "k2_cnn_bn_evanchien.h5", "k3_cnn_umer.keras"}) {
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
            const Timed a = run(*dense, data, repeats), b = run(*sp, data, repeats);
            const double ratio = a.msPer1000 / b.msPer1000;
            char verdict[64];
            if (ratio > 1.05) std::snprintf(verdict, sizeof verdict, "%.2fx faster", ratio);
            else std::snprintf(verdict, sizeof verdict, "no speed-up (%.2fx)", ratio);
            std::printf("%-26s %8.0f%% %10.4f %10.4f %10.1f %10.1f %s\n", file, s * 100, a.accuracy, b.accuracy,
                        a.msPer1000, b.msPer1000, verdict);
        }
    }
    std::printf("\nload after: %s\n", loadAverage().c_str());
    return 0;
}
