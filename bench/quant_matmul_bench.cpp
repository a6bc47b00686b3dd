// Packed matrix products of llama.cpp's block formats (core/quant/quant_rows.h), per weight
// type, at each thread count:
//   generation: one token through enough 5632 x 2048 matrices (TinyLlama's MLP shape) to hold
//     about 256 MB of weights, far past the caches, reported as GB/s of weights read and as
//     a share of the anchor;
//   prefill: 64 tokens through one matrix, as GFLOP/s (2 rows cols tokens per product).
// Anchors, measured in the same run: reading a 256 MB buffer with the same threads (GB/s);
// OpenBLAS's SGEMM of the prefill product on float32 weights, same threads (GFLOP/s).
// Wall time (median of REPEATS) and the CPU time of all threads are both given; the load
// average is printed, as the machine is shared.
//
// usage: quant_matmul_bench [REPEATS] [THREADS ...] [TYPE ...] [scalar|avx2|avx512]
//   e.g. quant_matmul_bench 5 1 2 Q4_K avx2   (the kernel family: the best one unless named)
#include <time.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "bench/support/bench_util.h"
#include "core/infer/cpu/gemm.h"
#include "core/quant/block_formats.h"
#include "core/quant/quant_rows.h"
#include "core/util/worker_pool.h"

using namespace cwb;
using namespace cwb::bench;

namespace {

constexpr std::int64_t kRows = 5632, kCols = 2048, kPrefillTokens = 64;
constexpr std::size_t kWeightBytes = 256u << 20;

struct Timing {
    double wall = 0, cpu = 0;  // seconds, medians
};

template <typename F>
Timing median(int repeats, F&& body) {
    std::vector<double> wall, cpu;
    body();  // warm-up: pools started, pages touched
    for (int r = 0; r < repeats; ++r) {
        const double c0 = processCpuSeconds();
        const auto t0 = std::chrono::steady_clock::now();
        body();
        wall.push_back(
            std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
        cpu.push_back(processCpuSeconds() - c0);
    }
    std::sort(wall.begin(), wall.end());
    std::sort(cpu.begin(), cpu.end());
    return {wall[wall.size() / 2], cpu[cpu.size() / 2]};
}

// Reading `bytes` with `threads` threads: the memory-read bandwidth anchor.
Timing readAnchor(const std::vector<std::uint64_t>& buffer, int threads, int repeats) {
    std::vector<std::uint64_t> sums(static_cast<std::size_t>(threads) * 8);
    return median(repeats, [&] {
        WorkerPool::shared(threads).run(static_cast<long long>(buffer.size()),
                                        [&](long long b, long long e, int w) {
                                            std::uint64_t s = 0;
                                            for (long long i = b; i < e; ++i) s += buffer[i];
                                            sums[static_cast<std::size_t>(w) * 8] += s;
                                        });
    });
}

}  // namespace

int main(int argc, char** argv) {
    const int repeats = argc > 1 ? std::max(1, std::atoi(argv[1])) : 5;
    std::vector<int> threadCounts;
    std::vector<DType> types;
    for (int i = 2; i < argc; ++i) {
        DType t;
        const std::string arg = argv[i];
        if (arg == "scalar" || arg == "avx2" || arg == "avx512")
            quant::setActiveIsa(arg == "scalar" ? quant::Isa::Scalar
                                : arg == "avx2" ? quant::Isa::Avx2
                                                : quant::Isa::Avx512);
        else if (parseDType(arg, t))
            types.push_back(t);
        else
            threadCounts.push_back(std::max(1, std::atoi(argv[i])));
    }
    if (threadCounts.empty()) threadCounts = {1, 2};
    if (types.empty())
        types = {DType::Q4_0, DType::Q4_1, DType::Q5_0, DType::Q5_1, DType::Q8_0,
                 DType::Q2_K, DType::Q3_K, DType::Q4_K, DType::Q5_K, DType::Q6_K,
                 DType::F16,  DType::BF16, DType::F32};

    std::printf("kernels: %s; median of %d; load %s\n", quant::isaName(quant::activeIsa()).c_str(),
                repeats, loadAverage().c_str());
    std::vector<std::uint64_t> anchorBuffer(kWeightBytes / 8);
    for (std::size_t i = 0; i < anchorBuffer.size(); ++i)
        anchorBuffer[i] = i * 0x9e3779b97f4a7c15ull;
    std::vector<double> anchorGBs;
    for (int threads : threadCounts) {
        const Timing t = readAnchor(anchorBuffer, threads, repeats);
        anchorGBs.push_back(kWeightBytes / t.wall / 1e9);
        std::printf("anchor: read 256 MB, %d thread(s): %.2f GB/s (%.1f ms wall, %.1f ms cpu)\n",
                    threads, anchorGBs.back(), 1e3 * t.wall, 1e3 * t.cpu);
    }
    anchorBuffer = {};

    std::mt19937 rng(1);
    std::normal_distribution<float> dist(0.f, 0.02f);
    std::vector<float> values(static_cast<std::size_t>(kRows * kCols));
    for (auto& v : values) v = dist(rng);
    std::vector<float> x(static_cast<std::size_t>(kPrefillTokens * kCols));
    for (auto& v : x) v = dist(rng) * 50.f;
    std::vector<float> y(static_cast<std::size_t>(kPrefillTokens * kRows));
    std::vector<double> sgemmGflops;
    for (int threads : threadCounts) {
        cpu::setBlasThreads(threads);
        const Timing t = median(repeats, [&] {
            cpu::sgemmNT(kPrefillTokens, kRows, kCols, x.data(), kCols, values.data(), kCols,
                         y.data(), kRows);
        });
        sgemmGflops.push_back(2.0 * kRows * kCols * kPrefillTokens / t.wall / 1e9);
        std::printf("anchor: SGEMM %lld x %lld x %lld, %d thread(s): %.1f GFLOP/s\n",
                    static_cast<long long>(kPrefillTokens), static_cast<long long>(kRows),
                    static_cast<long long>(kCols), threads, sgemmGflops.back());
    }
    cpu::setBlasThreads(1);

    std::printf("\n%-5s %3s | %9s %9s %7s %9s | %9s %9s %9s %7s\n", "type", "thr", "gen ms",
                "gen cpu", "GB/s", "% anchor", "pre ms", "pre cpu", "GFLOP/s", "/SGEMM");

    for (DType type : types) {
        const std::size_t rowBytes = quant::rowBytes(type, kCols);
        const std::size_t matrixBytes = rowBytes * kRows;
        const std::size_t copies = std::max<std::size_t>(1, kWeightBytes / matrixBytes);
        std::vector<std::byte> weights(matrixBytes * copies);
        for (std::int64_t r = 0; r < kRows; ++r)
            quant::quantizeRow(type, values.data() + r * kCols, weights.data() + r * rowBytes,
                               kCols);
        // Q4_0 and Q4_K as the forward pass holds them: interleaved by eight rows.
        const bool x8 = quant::hasInterleavedRows(type);
        if (x8) {
            std::vector<std::byte> plain(weights.begin(), weights.begin() + matrixBytes);
            quant::interleaveRows(type, plain.data(), kRows, kCols, weights.data());
        }
        for (std::size_t c = 1; c < copies; ++c)
            std::memcpy(weights.data() + c * matrixBytes, weights.data(), matrixBytes);
        for (std::size_t k = 0; k < threadCounts.size(); ++k) {
            const int threads = threadCounts[k];
            const Timing gen = median(repeats, [&] {
                for (std::size_t c = 0; c < copies; ++c)
                    quant::matmulPacked(
                        {type, weights.data() + c * matrixBytes, kRows, kCols, 0, x8}, x.data(), 1,
                        y.data(), threads);
            });
            const Timing pre = median(repeats, [&] {
                quant::matmulPacked({type, weights.data(), kRows, kCols, 0, x8}, x.data(),
                                    kPrefillTokens, y.data(), threads);
            });
            const double gbs = static_cast<double>(matrixBytes * copies) / gen.wall / 1e9;
            const double gflops = 2.0 * kRows * kCols * kPrefillTokens / pre.wall / 1e9;
            std::printf("%-5s %3d | %9.2f %9.2f %7.2f %8.0f%% | %9.2f %9.2f %9.1f %6.2fx\n",
                        dtypeName(type).c_str(), threads, 1e3 * gen.wall, 1e3 * gen.cpu, gbs,
                        100 * gbs / anchorGBs[k], 1e3 * pre.wall, 1e3 * pre.cpu, gflops,
                        gflops / sgemmGflops[k]);
            std::fflush(stdout);
        }
    }
    std::printf("\nload at the end %s\n", loadAverage().c_str());
    return 0;
}
