// Training throughput: one epoch (all 60 000 Fashion-MNIST training images) of the default
// distillation student, a 784-128-10 MLP (ReLU, softmax cross-entropy, Adam), in images/s,
// median of repeats. Compare with bench/torch_mlp_epoch.py (same network, batch, optimizer,
// thread count) run on the same machine. Anchor: OpenBLAS SGEMM GFLOP/s in the same run.
//
//   train_bench [--batch 32] [--threads 2] [--repeats 5] [--spec mlp:128]
#include <cblas.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "bench/support/bench_util.h"
#include "core/io/idx_dataset.h"
#include "core/train/arch_spec.h"
#include "core/train/trainer.h"

using namespace cwb;
using namespace cwb::bench;
using Clock = std::chrono::steady_clock;

namespace {

// 1024^3 SGEMM at the given thread count, best of a few: the machine's matrix speed now.
double sgemmGflops(int threads) {
    const int n = 1024;
    std::vector<float> a(n * n, 0.5f), b(n * n, 0.25f), c(n * n);
    openblas_set_num_threads(threads);
    double best = 1e30;
    for (int i = 0; i < 5; ++i) {
        const auto start = Clock::now();
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.f, a.data(), n, b.data(),
                    n, 0.f, c.data(), n);
        best = std::min(best, std::chrono::duration<double>(Clock::now() - start).count());
    }
    return 2.0 * n * n * n / best / 1e9;
}

}  // namespace

int main(int argc, char** argv) {
    int batch = 32, threads = 2, repeats = 5;
    std::string spec = "mlp:128";
    for (int i = 1; i < argc; ++i) {
        const std::string key = argv[i];
        const bool valued = i + 1 < argc;
        if (key == "--batch" && valued)
            batch = std::max(1, std::atoi(argv[++i]));
        else if (key == "--threads" && valued)
            threads = std::max(1, std::atoi(argv[++i]));
        else if (key == "--repeats" && valued)
            repeats = std::max(1, std::atoi(argv[++i]));
        else if (key == "--spec" && valued)
            spec = argv[++i];
        else
            refuseOption(key, "train_bench [--batch N] [--threads N] [--repeats N] [--spec SPEC]");
    }
    const Dataset train = loadFashionMnist(kDefaultDatasetDir, Split::Train);
    std::printf("train_bench: %s, batch %d, adam, %d threads, %d images per epoch\n", spec.c_str(),
                batch, threads, train.size());
    std::printf("anchor: sgemm 1024^3 at %d threads: %.1f GFLOP/s\n", threads,
                sgemmGflops(threads));
    std::vector<double> rates;
    for (int r = 0; r < repeats; ++r) {
        train::ArchOptions arch;
        arch.seed = 1 + r;
        Model model = train::buildModel(spec, arch);
        train::TrainOptions options;
        options.epochs = 1;
        options.batchSize = batch;
        options.threads = threads;
        options.seed = 1 + r;
        const auto result = train::trainModel(model, train, nullptr, options);
        const auto& e = result.epochs.back();
        rates.push_back(e.imagesPerSecond);
        std::printf("  epoch %d: %.3f s, %.0f images/s, train accuracy %.4f\n", r + 1,
                    e.trainSeconds, e.imagesPerSecond, e.trainAccuracy);
    }
    std::printf("median: %.0f images/s (%.3f s per epoch)\n", median(rates),
                train.size() / median(rates));
    std::printf("anchor after: sgemm 1024^3 at %d threads: %.1f GFLOP/s\n", threads,
                sgemmGflops(threads));
    return 0;
}
