// One slider step of the window: compressModel (mask, quantize, histograms, statistics)
// over 10 million float32 weights, against two anchors measured in the same run: memcpy
// of the same bytes, and a naive multi-pass version (one loop per job, std::round,
// Histogram::add); and the step again with the fused pass's scalar reference kernels.
// Prints medians of repeats.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "bench/support/bench_util.h"
#include "core/compress/compress_model.h"
#include "core/quant/block_formats.h"
#include "core/util/parallel.h"

using namespace cwb;
using namespace cwb::bench;
using Clock = std::chrono::steady_clock;

namespace {

double processCpuMs() {
    timespec t{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

// Median CPU time of all threads per call: the work itself, less sensitive than wall time
// to other processes on a shared machine.
template <typename F>
double medianCpuMs(int repeats, F&& f) {
    std::vector<double> t;
    for (int i = 0; i < repeats; ++i) {
        const double a = processCpuMs();
        f();
        t.push_back(processCpuMs() - a);
    }
    std::sort(t.begin(), t.end());
    return t[t.size() / 2];
}

template <typename F>
double medianMs(int repeats, F&& f) {
    std::vector<double> t;
    for (int i = 0; i < repeats; ++i) {
        const auto a = Clock::now();
        f();
        t.push_back(std::chrono::duration<double, std::milli>(Clock::now() - a).count());
    }
    std::sort(t.begin(), t.end());
    return t[t.size() / 2];
}

Model bigModel(int layers, int in, int out) {
    Model m;
    m.sourcePath = "synthetic";
    m.inputShape = {in};
    std::mt19937 rng(1);
    std::normal_distribution<float> dist(0.f, 0.05f);
    for (int l = 0; l < layers; ++l) {
        std::vector<float> w(static_cast<std::size_t>(in) * out);
        for (auto& v : w) v = dist(rng);
        Layer layer;
        layer.name = "dense_" + std::to_string(l);
        layer.className = "Dense";
        layer.kind = LayerKind::Dense;
        layer.units = out;
        layer.kernel = Tensor::fromFloats({in, out}, std::move(w));
        layer.bias = Tensor::zeros({out});
        m.layers.push_back(layer);
        std::swap(in, out);
    }
    m.inferShapes();
    return m;
}

// The same job written plainly: a pass for the mask, one for quantization, then one per statistic.
double naiveStep(const Model& m, float alpha, float rho, std::vector<std::vector<float>>& out) {
    double checksum = 0;
    for (std::size_t l = 0; l < m.layers.size(); ++l) {
        const auto w = m.layers[l].kernel.floats();
        auto& o = out[l];
        std::vector<char> mask(w.size());
        for (std::size_t i = 0; i < w.size(); ++i) mask[i] = std::fabs(w[i]) >= rho;
        for (std::size_t i = 0; i < w.size(); ++i)
            o[i] = mask[i] ? std::round(w[i] / alpha) * alpha : 0.f;
        float maxAbs = 0;
        for (float v : w) maxAbs = std::max(maxAbs, std::fabs(v));
        Histogram ho({128, -maxAbs, maxAbs}), hc({128, -maxAbs - alpha, maxAbs + alpha}),
            he({128, -alpha, alpha});
        for (float v : w) ho.add(v);
        for (float v : o) hc.add(v);
        for (std::size_t i = 0; i < w.size(); ++i) he.add(o[i] - w[i]);
        double sq = 0, se = 0, maxErr = 0;
        long long zeros = 0;
        for (float v : w) sq += double(v) * v;
        for (std::size_t i = 0; i < w.size(); ++i)
            se += (double(o[i]) - w[i]) * (double(o[i]) - w[i]);
        for (std::size_t i = 0; i < w.size(); ++i)
            maxErr = std::max(maxErr, std::fabs(double(o[i]) - w[i]));
        for (float v : o) zeros += v == 0.f;
        std::vector<float> levels(o.begin(), o.end());  // distinct values by sorting
        std::sort(levels.begin(), levels.end());
        checksum += sq + se + maxErr + zeros +
                    double(std::unique(levels.begin(), levels.end()) - levels.begin()) +
                    ho.counts[64] + hc.counts[64] + he.counts[64];
    }
    return checksum;
}

}  // namespace

// Wall and CPU medians of one measured action, printed as one row.
template <typename F>
void row(const char* what, int repeats, F&& f) {
    const double wall = medianMs(repeats, f);
    const double cpu = medianCpuMs(repeats, f);
    std::printf("%-56s %9.2f ms wall %9.2f ms cpu\n", what, wall, cpu);
}

int main(int argc, char** argv) {
    const int repeats = argc > 1 ? std::atoi(argv[1]) : 21;
    const int threads = argc > 2 ? std::atoi(argv[2]) : resolveThreads(0);
    const Model m = bigModel(5, 2000, 1000);  // 5 x 2 M = 10 M weights
    long long n = 0;
    for (const auto& l : m.layers) n += l.kernel.elements();
    if (argc > 3) {  // for profilers: one kind of slider step alone
        CompressOptions options;
        options.threads = threads;
        options.profile = profileWeights(m, options.stats, threads);
        CompressionPlan plan = CompressionPlan::uniform(0.01f, 0.02f);
        if (std::string(argv[3]) == "bits") {
            plan.defaults.quant.bits = 4;
            plan.defaults.quant.granularity = Granularity::Channel;
        }
        double sink = 0;
        row("compressModel", repeats,
            [&] { sink += compressModel(m, plan, options).total.weights.mse; });
        return sink > 0 ? 0 : 1;
    }
    std::printf(
        "weights %lld (5 Dense kernels of 2000 x 1000), threads %d, median of %d, load %s\n", n,
        threads, repeats, loadAverage().c_str());
    std::printf(
        "(cpu: CPU time of all threads of the process during the call; fused-pass kernels: %s)\n",
        quant::isaName(quant::activeIsa()).c_str());

    std::vector<float> src(static_cast<std::size_t>(n), 1.f), dst(static_cast<std::size_t>(n), 0.f);
    row("anchor: memcpy of the 40 MB", repeats,
        [&] { std::memcpy(dst.data(), src.data(), n * 4); });
    std::vector<std::vector<float>> naiveOut;
    for (const auto& l : m.layers) naiveOut.emplace_back(l.kernel.elements());
    double sink = 0;
    row("anchor: naive multi-pass, 1 thread", std::max(3, repeats / 4),
        [&] { sink += naiveStep(m, 0.01f, 0.02f, naiveOut); });

    CompressOptions options;
    options.threads = threads;
    const auto plan = CompressionPlan::uniform(0.01f, 0.02f);
    row("compressModel alpha 0.01 rho 0.02, no profile", repeats,
        [&] { sink += compressModel(m, plan, options).total.weights.mse; });
    const auto profileStart = Clock::now();
    options.profile = profileWeights(m, options.stats, threads);
    std::printf("%-56s %9.2f ms wall (once per model)\n", "profileWeights",
                std::chrono::duration<double, std::milli>(Clock::now() - profileStart).count());
    row("compressModel alpha 0.01 rho 0.02, with profile", repeats,
        [&] { sink += compressModel(m, plan, options).total.weights.mse; });
    options.stats.histograms = false;
    row("  the same without histograms", repeats,
        [&] { sink += compressModel(m, plan, options).total.weights.mse; });
    options.stats.histograms = true;
    const quant::Isa family = quant::activeIsa();
    quant::setActiveIsa(quant::Isa::Scalar);
    row("  the same with the scalar reference kernels", repeats,
        [&] { sink += compressModel(m, plan, options).total.weights.mse; });
    quant::setActiveIsa(family);
    CompressionPlan bits;
    bits.defaults.quant.bits = 4;
    bits.defaults.quant.granularity = Granularity::Channel;
    bits.defaults.prune.rho = 0.02f;
    row("compressModel 4-bit per channel, rho 0.02, profile", repeats,
        [&] { sink += compressModel(m, bits, options).total.weights.mse; });
    std::printf("load after: %s (checksum %g)\n", loadAverage().c_str(), sink);
    return 0;
}
