// Evaluation throughput of the float32 CPU engine on the fixture models (full Fashion-MNIST
// test set), at 1 and 2 threads, for each CPU strategy, with an SGEMM anchor measured in the
// same run. Writes bench/results/eval.md. Usage: eval_bench [--runs N] [--out FILE]
#include <time.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "bench/support/bench_util.h"
#include "core/infer/cpu/cpu_engine.h"
#include "core/infer/cpu/gemm.h"
#include "core/infer/evaluate.h"
#include "core/io/idx_dataset.h"
#include "core/io/model_loader.h"

using namespace cwb;
using namespace cwb::bench;
using Clock = std::chrono::steady_clock;

namespace {

struct Timing {
    double wall = 0, cpu = 0;
};

// Square SGEMM through the same BLAS the engine uses: the machine's practical float32 peak.
// Returns GFLOP per wall second and per CPU second (medians).
Timing sgemmGflops(int threads, int size, int runs) {
    cpu::setBlasThreads(threads);
    std::vector<float> a(std::size_t(size) * size, 0.5f), b(a.size(), 0.25f), c(a.size());
    cpu::sgemm(size, size, size, a.data(), size, b.data(), size, c.data(), size);  // warm-up
    std::vector<double> wall, cpu;
    const double flop = 2.0 * size * size * double(size);
    for (int r = 0; r < runs; ++r) {
        const double cpu0 = processCpuSeconds();
        const auto start = Clock::now();
        cpu::sgemm(size, size, size, a.data(), size, b.data(), size, c.data(), size);
        wall.push_back(flop / std::chrono::duration<double>(Clock::now() - start).count() / 1e9);
        cpu.push_back(flop / (processCpuSeconds() - cpu0) / 1e9);
    }
    return {median(wall), median(cpu)};
}

struct Variant {
    const char* name;
    CpuStrategy strategy;
    cpu::ConvAlgorithm conv;
};

}  // namespace

int main(int argc, char** argv) {
    int runs = 5;
    std::string outPath = std::string(CWB_SOURCE_DIR) + "/bench/results/eval.md";
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--runs" && i + 1 < argc)
            runs = std::max(1, std::atoi(argv[++i]));
        else if (a == "--out" && i + 1 < argc)
            outPath = argv[++i];
        else
            refuseOption(a, "eval_bench [--runs N] [--out FILE]");
    }
    const std::string loadBefore = loadAverage();
    const Dataset data = loadFashionMnist(kDefaultDatasetDir, Split::Test);
    const Timing anchor2 = sgemmGflops(2, 2048, runs);
    const Timing anchor1 = sgemmGflops(1, 2048, runs);
    std::printf(
        "anchor: OpenBLAS SGEMM 2048^3: %.1f GFLOP/s (2 threads), %.1f (1 thread); per CPU second "
        "%.1f\n",
        anchor2.wall, anchor1.wall, anchor1.cpu);

    const std::vector<Variant> variants{
        {"slices + direct conv (default)", CpuStrategy::BatchSlices, cpu::ConvAlgorithm::Auto},
        {"slices + im2col/SGEMM", CpuStrategy::BatchSlices, cpu::ConvAlgorithm::Im2colGemm},
        {"whole batch, threaded SGEMM", CpuStrategy::WholeBatchBlas, cpu::ConvAlgorithm::Auto},
    };
    const char* fixtures[] = {"k2_cnn_bn_evanchien.h5", "k3_cnn_umer.keras",
                              "k2_mlp_dropout_percy.h5", "k3legacy_mlp_ntu113.h5"};
    std::ostringstream table;
    table << "| model | MFLOP/img | strategy | threads | images/s | GFLOP/s | of SGEMM anchor | "
             "GFLOP per CPU-s | accuracy |\n"
          << "|---|---|---|---|---|---|---|---|---|\n";
    for (const char* fixture : fixtures) {
        const Model model =
            loadModel(std::string(CWB_SOURCE_DIR) + "/tests/fixtures/models/" + fixture);
        const double flops = model.flopsPerSample();
        for (const Variant& variant : variants) {
            for (int threads : {1, 2}) {
                CpuEngineOptions options;
                options.engine.threads = threads;
                options.strategy = variant.strategy;
                options.convAlgorithm = variant.conv;
                auto engine = makeCpuEngine(model, options);
                EvalResult result =
                    evaluate(*engine, data);  // warm-up: pages, caches, BLAS buffers
                std::vector<double> seconds, cpuSeconds;
                for (int r = 0; r < runs; ++r) {
                    const double cpu0 = processCpuSeconds();
                    result = evaluate(*engine, data);
                    cpuSeconds.push_back(processCpuSeconds() - cpu0);
                    seconds.push_back(result.seconds);
                }
                const double s = median(seconds);
                const double images = data.size() / s, gflops = images * flops / 1e9;
                const double perCpuSecond = data.size() * flops / median(cpuSeconds) / 1e9;
                const double anchor = threads == 2 ? anchor2.wall : anchor1.wall;
                char row[512];
                std::snprintf(row, sizeof row,
                              "| %s | %.2f | %s | %d | %.0f | %.1f | %.0f%% | %.1f | %.4f |\n",
                              fixture, flops / 1e6, variant.name, threads, images, gflops,
                              100 * gflops / anchor, perCpuSecond, result.accuracy);
                std::fputs(row, stdout);
                std::fflush(stdout);
                table << row;
            }
        }
    }
    const std::string loadAfter = loadAverage();

    std::ofstream out(outPath);
    out << "# Evaluation throughput (float32 CPU engine)\n\n"
        << "Full Fashion-MNIST test set (10 000 images, batch 512), median of " << runs
        << " evaluations after one warm-up; GFLOP/s counts Model::flopsPerSample() (conv and dense "
           "multiply-adds as 2 FLOPs).\n\n"
        << "- Machine: " << cpuName() << ", 2 cores, AVX-512\n"
        << "- Anchor, same run: OpenBLAS SGEMM 2048x2048x2048: " << std::fixed;
    out.precision(1);
    out << anchor2.wall << " GFLOP/s on 2 threads, " << anchor1.wall << " GFLOP/s on 1 thread ("
        << anchor1.cpu
        << " GFLOP per CPU second); \"of SGEMM anchor\" compares with the anchor at the same "
           "thread count\n"
        << "- GFLOP per CPU-s: the work divided by the CPU time the process used (all threads, "
           "including "
           "data handling in evaluate()); unlike wall time it does not drop when other jobs share "
           "the cores\n"
        << "- Load average (1/5/15 min) before: " << loadBefore << ", after: " << loadAfter
        << "\n\n"
        << table.str();
    std::printf("load average before: %s, after: %s\nwrote %s\n", loadBefore.c_str(),
                loadAfter.c_str(), outPath.c_str());
    return 0;
}
