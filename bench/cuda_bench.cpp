// The CUDA backend on a GPU: its agreement with the CPU (the checks of tests/support/gpu_checks,
// for machines without Qt), the fused pass over many weights, and evaluation of the fixture
// networks at batch 10 000 and 1 000, with data already on the GPU (CUDA events, median).
// Each network's compiled plan is written beside the results so that bench/torch_cuda_anchor.py
// times the same network in PyTorch in the same run.
//
//   cuda_bench [FIXTURES_DIR DATASET_DIR OUT_DIR [WEIGHTS=1e9] [self | fused | blocks | distill
//   [BATCH=32 [small]] | with MODEL...]]
// (defaults: the source tree's fixtures, Debian's Fashion-MNIST, /tmp/cwb_cuda_bench; where no
// GPU runs it says so and exits 0, so bench/run_all.sh passes on CPU machines).
// "self" runs the checks with the CPU in the GPU's place (the harness checking itself);
// "distill" checks and times a distillation epoch instead (it needs the training images);
// "fused" only the fused pass: its checks and timings, and the block formats' checks and timings;
// "blocks" the block formats' alone; "with MODEL..." the default run with these models (Keras
// files anywhere) beside the fixtures' in the engine checks, the plans and the evaluation table;
// "eval MODEL..." the evaluation table alone (no checks), the models beside the fixtures'.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>
#include <string>

#include "core/backend/backend.h"
#include "core/infer/evaluate.h"
#include "core/infer/plan.h"
#include "core/io/idx_dataset.h"
#include "core/io/model_loader.h"
#include "core/llm/llm_compress.h"
#include "core/quant/fp16.h"
#include "core/quant/quant_rows.h"
#include "core/train/arch_spec.h"
#include "core/train/teacher_logits.h"
#include "core/util/parallel.h"
#include "tests/support/gpu_checks.h"
#ifdef CWB_HAVE_CUDA
#include "core/backend/cuda/cuda_jobs.h"
#endif

using namespace cwb;

namespace {

// The plan as JSON plus one float32 file of its arrays.
void writePlan(const Plan& plan, const std::string& stem) {
    nlohmann::json ops = nlohmann::json::array();
    std::ofstream bin(stem + ".bin", std::ios::binary);
    long long offset = 0;
    const auto put = [&](const std::vector<float>& v) {
        bin.write(reinterpret_cast<const char*>(v.data()),
                  static_cast<std::streamsize>(v.size() * sizeof(float)));
        nlohmann::json at = {offset, v.size()};
        offset += static_cast<long long>(v.size());
        return at;
    };
    const char* kinds[] = {"Conv2D",    "Dense",         "MaxPool2D",
                           "AvgPool2D", "ChannelAffine", "Activation"};
    for (const PlanOp& op : plan.ops) {
        const Window2D& w = op.window;
        ops.push_back({{"kind", kinds[static_cast<int>(op.kind)]},
                       {"layer", op.layerName},
                       {"window",
                        {w.inH, w.inW, w.channels, w.kernelH, w.kernelW, w.strideH, w.strideW,
                         w.outH, w.outW, w.padTop, w.padLeft}},
                       {"inFeatures", op.inFeatures},
                       {"outFeatures", op.outFeatures},
                       {"activation", activationName(op.activation.kind)},
                       {"alpha", op.activation.alpha},
                       {"weights", put(op.weights)},
                       {"bias", put(op.bias)},
                       {"scale", put(op.scale)},
                       {"inputSize", op.inputSize},
                       {"outputSize", op.outputSize}});
    }
    std::ofstream(stem + ".json") << nlohmann::json{
        {"inputSize", plan.inputSize},
        {"outputSize", plan.outputSize},
        {"ops", ops}}.dump(1);
}

// kjv-llama-6m's first shard (bf16 matrices), beside the model fixtures: the whole-model
// table's checks. Set by main from FIXTURES_DIR.
std::string& llmShard() {
    static std::string path;
    return path;
}

// The fused pass's cases (= tests/core/cuda_backend_test's) against the CPU: the failures.
int checkFusedCases(Backend& gpu) {
    int failures = 0;
    for (const std::string& name : test::fusedCaseNames()) {
        std::string failure;
        try {
            failure = test::checkFusedCase(gpu, name);
        } catch (const std::exception& e) {
            failure = e.what();
        }
        failures += !failure.empty();
        std::printf("%s   : fused pass %s %s\n", failure.empty() ? "PASS" : "FAIL", name.c_str(),
                    failure.c_str());
    }
    return failures;
}

// The networks the engine checks and the evaluation table take: the fixtures', then `extra`.
std::vector<std::string> modelPaths(const std::string& fixtures,
                                    const std::vector<std::string>& extra) {
    std::vector<std::string> paths;
    for (const std::string& name : test::engineCheckModels())
        paths.push_back(fixtures + "/" + name);
    paths.insert(paths.end(), extra.begin(), extra.end());
    return paths;
}

std::string fileName(const std::string& path) {
    return std::filesystem::path(path).filename().string();
}

int runChecks(Backend& gpu, const std::vector<std::string>& models, const Dataset& data) {
    int failures = checkFusedCases(gpu);
    for (const GpuMath math : {GpuMath::Float32, GpuMath::Tf32})
        for (const std::string& path : models) {
            const std::string model = fileName(path);
            test::EngineCheck r;
            try {
                r = test::checkEngine(gpu, path, data, math);
            } catch (const std::exception& e) {
                r.failure = e.what();
            }
            failures += !r.failure.empty();
            std::printf(
                "%s   : engine%s %s accuracy CPU %.4f GPU %.4f, max |output diff| %.2e %s\n",
                r.failure.empty() ? "PASS" : "FAIL", math == GpuMath::Tf32 ? " (tf32)" : "",
                model.c_str(), r.cpuAccuracy, r.gpuAccuracy, r.maxOutputDifference,
                r.failure.c_str());
        }
    std::printf("Totals: %d failed\n", failures);
    return failures;
}

// One distillation epoch of the mlp:128 student against k2_cnn_bn_evanchien's logits on the
// 60 000 training images: the CPU/GPU agreement (test::checkDistillation) and the GPU's epoch
// time, median of three epochs. Writes the teacher's logits, the first epoch's order and the
// student's first weights for bench/torch_distill_epoch.py.
// `small`: the 10 000 test images stand in for the training set (a quick check where the
// training images are missing).
int runDistillation(Backend& gpu, const std::string& fixtures, const std::string& datasetDir,
                    const std::string& outDir, int batch, bool small) {
    const Dataset train = loadFashionMnist(datasetDir, small ? Split::Test : Split::Train);
    const Dataset test = loadFashionMnist(datasetDir, Split::Test, small ? 2000 : 0);
    const auto started = std::chrono::steady_clock::now();
    const std::vector<float> logits =
        train::teacherLogits(loadModel(fixtures + "/k2_cnn_bn_evanchien.h5"), train);
    std::printf("teacher logits (CPU engine): %.1f s\n",
                std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
    const auto write = [&](const std::string& name, const void* data, std::size_t bytes) {
        std::ofstream(outDir + "/" + name, std::ios::binary)
            .write(static_cast<const char*>(data), static_cast<std::streamsize>(bytes));
    };
    write("teacher_logits.bin", logits.data(), logits.size() * sizeof(float));
    const std::vector<int> order = train::epochOrder(train.size(), 1, 1);
    write("order.bin", order.data(), order.size() * sizeof(int));
    const Model student = train::buildModel("mlp:128");
    for (const Layer& l : student.layers)
        if (l.kind == LayerKind::Dense) {
            write(l.name + "_kernel.bin", l.kernel.floats().data(), l.kernel.floats().size() * 4);
            write(l.name + "_bias.bin", l.bias.floats().data(), l.bias.floats().size() * 4);
        }

    const test::TrainCheck c = test::checkDistillation(gpu, train, test, logits, batch);
    std::printf(
        "%s   : distillation, batch %d: one SGD step max |weight diff| %.3g; one Adam "
        "epoch: loss CPU %.6f GPU %.6f, accuracy CPU %.4f GPU %.4f, test accuracy CPU "
        "%.4f GPU %.4f, weights relative L2 difference %.3g %s\n",
        c.failure.empty() ? "PASS" : "FAIL", batch, c.stepDifference, c.cpuLoss, c.gpuLoss,
        c.cpuAccuracy, c.gpuAccuracy, c.cpuTestAccuracy, c.gpuTestAccuracy, c.weightDifference,
        c.failure.c_str());

    Model timed = train::buildModel("mlp:128");
    train::TrainOptions options;
    options.epochs = 3;
    options.batchSize = batch;
    options.seed = 1;
    options.distill = {logits.data(), train.classes, 4.0, 0.5};
    std::vector<double> seconds;
    for (const train::EpochReport& e : gpu.trainModel(timed, train, nullptr, options, {}).epochs)
        seconds.push_back(e.trainSeconds);
    std::printf("cwb %s distillation epochs, batch %d: %.2f, %.2f, %.2f ms\n", gpu.name().c_str(),
                batch, seconds[0] * 1e3, seconds[1] * 1e3, seconds[2] * 1e3);
    std::sort(seconds.begin(), seconds.end());
    std::printf("distillation epoch ms: GPU median %.2f, CPU %.1f\n", seconds[1] * 1e3,
                c.cpuSeconds * 1e3);
    return c.failure.empty() ? 0 : 1;
}

}  // namespace

#ifdef CWB_HAVE_CUDA
// The window's statistics of one language-model matrix in a block format (compressLlmTensor:
// quantize, then the figures and three histograms with automatic edges; no distinct levels, as
// the window for a matrix this size) on the CPU's route (every core) and with `gpu` as its
// backend, and the backend entry alone (Backend::runBlockPass from float32 in host memory:
// blocks, values' figures and histograms) on each: a bf16 [rows x 4096] matrix (11008 rows: a
// 7B ffn_up) of N(0, 0.02) weights, seconds, median of 3. A markdown table.
std::string timeTensorStatistics(Backend& gpu, long long rows) {
    constexpr long long kCols = 4096;
    std::vector<float> values(static_cast<std::size_t>(rows * kCols));
    std::mt19937 rng(7);
    std::normal_distribution<float> normal(0.f, 0.02f);
    auto storage = std::make_shared<OwnedStorage>(values.size() * 2);
    for (std::size_t i = 0; i < values.size(); ++i) {
        const std::uint16_t h = floatToBf16(normal(rng));
        std::memcpy(storage->mutableData() + 2 * i, &h, 2);
        values[i] = bf16ToFloat(h);
    }
    const Tensor matrix({rows, kCols}, DType::BF16, storage);
    const auto median = [](const auto& run) {
        std::vector<double> runs;
        for (int r = 0; r < 3; ++r) {
            const auto start = std::chrono::steady_clock::now();
            run();
            runs.push_back(
                std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
        }
        std::sort(runs.begin(), runs.end());
        return runs[1];
    };
    std::ostringstream md;
    md << "| bf16 [" << rows << " x 4096] | compressLlmTensor CPU (" << resolveThreads(0)
       << " threads) s | " << gpu.name() << " s | runBlockPass CPU s | " << gpu.name()
       << " s | SQNR dB CPU / GPU |\n|---|---|---|---|---|---|\n";
    for (const DType format : {DType::Q8_0, DType::Q4_0, DType::Q2_K, DType::Q4_K, DType::Q6_K}) {
        LlmCompression compression;
        compression.format = format;
        FusedJob job;
        job.in = MatrixView{values.data(), rows, kCols};
        FusedOptions options;
        options.weights = HistogramSpec{128, -0.1, 0.1};
        options.error = HistogramSpec{128, -0.01, 0.01};
        options.threads = resolveThreads(0);
        std::vector<std::byte> blocks(quant::rowBytes(format, kCols) * rows);
        double tensorSeconds[2], passSeconds[2], sqnr[2];
        for (int onGpu = 0; onGpu < 2; ++onGpu) {
            Backend& backend = onGpu ? gpu : cpuBackend();
            LlmTensorOptions tensorOptions;
            tensorOptions.backend = onGpu ? &gpu : nullptr;
            tensorOptions.stats.exactLevels = false;
            tensorSeconds[onGpu] = median([&] {
                sqnr[onGpu] =
                    compressLlmTensor("blk.0.ffn_up.weight", matrix, compression, tensorOptions)
                        .stats.sqnrDb;
            });
            passSeconds[onGpu] =
                median([&] { backend.runBlockPass(format, job, options, blocks.data(), {}); });
        }
        md << "| " << dtypeName(format) << " | " << tensorSeconds[0] << " | " << tensorSeconds[1]
           << " | " << passSeconds[0] << " | " << passSeconds[1] << " | " << sqnr[0] << " / "
           << sqnr[1] << " |\n";
        std::cout << "compressLlmTensor " << dtypeName(format) << ": CPU " << tensorSeconds[0]
                  << " s, GPU " << tensorSeconds[1] << " s; runBlockPass CPU " << passSeconds[0]
                  << " s, GPU " << passSeconds[1] << " s\n"
                  << std::flush;
    }
    return md.str();
}

int checkAndTimeBlocks(Backend& gpu, long long weights, std::ostringstream& md);

// The fused pass over `weights` float32 weights drawn on the device (the cases of
// bench/results/cuda.md), then the block formats: their checks against the CPU and their
// timings. Appends markdown to `md`; returns the failures.
int timeFusedPasses(Backend& gpu, long long weights, std::ostringstream& md) {
    const int device = 0;
    int failures = 0;
    md << "## Fused pass over " << weights << " float32 weights on the GPU (" << gpu.description()
       << ")\n\n"
       << "Weights N(0, 0.05) drawn on the device; histograms 128 bins over [-0.15, 0.15] "
          "and 64 error bins; CUDA events around the kernel, median of 10 after 2 "
          "warm-ups.\n\n| case | median ms | min ms | read GB/s |\n|---|---|---|---|\n";
    struct FusedCase {
        const char* name;
        QuantKind quant;
        KeepRule::Kind keep;
        bool histograms, writeOut;
        bool literal = false;
        int ways = 0;  // -1: no codes counted
    };
    const FusedCase cases[] = {
        {"threshold + uniform alpha, histograms + codes, statistics only", QuantKind::Uniform,
         KeepRule::Kind::Threshold, true, false},
        {"threshold + uniform alpha, histograms + codes, values written", QuantKind::Uniform,
         KeepRule::Kind::Threshold, true, true},
        {"threshold + uniform alpha, no histograms, statistics only", QuantKind::Uniform,
         KeepRule::Kind::Threshold, false, false},
        {"threshold only, histograms, statistics only", QuantKind::None, KeepRule::Kind::Threshold,
         true, false},
        {"threshold + uniform alpha, sums only (no counts), statistics only", QuantKind::Uniform,
         KeepRule::Kind::Threshold, false, false, false, -1},
        {"as the first, literal rules (the generic kernel)", QuantKind::Uniform,
         KeepRule::Kind::Threshold, true, false, true},
        {"as the first, literal rules, 8 counter copies", QuantKind::Uniform,
         KeepRule::Kind::Threshold, true, false, true, 8},
        {"as the fourth, literal rules", QuantKind::None, KeepRule::Kind::Threshold, true, false,
         true},
    };
    std::vector<FusedResult> results;
    for (const FusedCase& c : cases) {
        FusedJob job;
        job.keep.kind = c.keep;
        job.keep.rho = 0.02f;
        job.quant = c.quant;
        job.alpha = 0.01f;
        if (c.quant == QuantKind::Uniform && c.ways >= 0) {
            job.codeBase = -64;  // |w| < 0.64: beyond 12 sigma
            job.codeSpan = 129;
        }
        FusedOptions options;
        options.histograms = c.histograms;
        options.weights = HistogramSpec{128, -0.15, 0.15};
        options.error = HistogramSpec{64, -0.006, 0.006};
        const cuda::FusedTiming t = cuda::timeFusedPass(device, weights, job, c.writeOut, options,
                                                        10, c.literal, std::max(c.ways, 0));
        results.push_back(t.result);
        md << "| " << c.name << " | " << t.medianMs << " | " << t.minMs << " | "
           << static_cast<double>(weights) * 4 / (t.medianMs * 1e6) << " |\n";
        std::cout << c.name << ": " << t.medianMs << " ms (zeros " << t.result.zeros << ", sum w^2 "
                  << t.result.sumSquares << ")\n"
                  << std::flush;
    }

    // The same weights by the fast and by the literal rules (which the checks above
    // compare with the CPU): every count must agree, the sums to float32 rounding.
    for (const auto& [fastRow, literalRow] : {std::pair{0, 5}, std::pair{3, 7}}) {
        const FusedResult &a = results[fastRow], &b = results[literalRow];
        const bool same =
            a.codeCounts == b.codeCounts && a.zeros == b.zeros &&
            a.originalZeros == b.originalZeros && a.original.counts == b.original.counts &&
            a.original.overflow == b.original.overflow &&
            a.original.underflow == b.original.underflow &&
            a.compressed.counts == b.compressed.counts && a.error.counts == b.error.counts &&
            a.error.underflow == b.error.underflow && a.error.overflow == b.error.overflow;
        md << "\nRows " << fastRow + 1 << " and " << literalRow + 1 << " (fast and literal rules, "
           << weights << " weights): counts " << (same ? "identical" : "DIFFER")
           << ", sum of squared errors relative difference "
           << std::fabs(a.sumSquaredError - b.sumSquaredError) / b.sumSquaredError << "\n";
        if (!same) ++failures;
    }
    return failures + checkAndTimeBlocks(gpu, weights, md);
}

// The block formats in the fused pass: their checks against the CPU (cuda::runBlockPass and
// Backend::runBlockPass) and their timings over `weights` weights. Appends markdown to `md`;
// returns the failures.
int checkAndTimeBlocks(Backend& gpu, long long weights, std::ostringstream& md) {
    const int device = 0;
    int failures = 0;
    md << "\n## Block formats in the fused pass (Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q2_K ... Q6_K)\n\n";
    // One check: PASS or FAIL with its first difference, on stdout and in `md`.
    const auto check = [&](const char* kind, const std::string& name, const auto& run) {
        std::string failure;
        try {
            failure = run();
        } catch (const std::exception& e) {
            failure = e.what();
        }
        failures += !failure.empty();
        std::printf("%s   : %s %s %s\n", failure.empty() ? "PASS" : "FAIL", kind, name.c_str(),
                    failure.c_str());
        md << "- check " << name << ": " << (failure.empty() ? "PASS" : "FAIL " + failure) << "\n";
    };
    for (const std::string& name : test::blockCaseNames())
        check("block pass", name, [&] { return test::checkBlockCase(device, name); });
    for (const std::string& name : test::backendBlockCaseNames())
        check("backend block pass", name, [&] { return test::checkBackendBlockCase(gpu, name); });
    for (const std::string& name : test::schemeTableCaseNames()) {
        double worst = 0.0;
        check("whole-model table rows", name, [&] {
            const std::string failure = test::checkSchemeTableCase(gpu, llmShard(), name, &worst);
            std::printf("        (%s: largest relative difference of the sums %.2e)\n",
                        name.c_str(), worst);
            return failure;
        });
    }
    md << "\n" << timeTensorStatistics(gpu, std::clamp(weights / 4096, 1ll, 11008ll));
    md << "\n| case | median ms | min ms | read GB/s |\n|---|---|---|---|\n";
    for (const DType format : {DType::Q8_0, DType::Q4_0, DType::Q4_1, DType::Q5_0, DType::Q5_1,
                               DType::Q2_K, DType::Q3_K, DType::Q4_K, DType::Q5_K, DType::Q6_K})
        for (const bool writeBlocks : {false, true}) {
            FusedJob job;
            job.keep.kind = KeepRule::Kind::Threshold;
            job.keep.rho = 0.02f;
            FusedOptions options;
            options.weights = HistogramSpec{128, -0.15, 0.15};
            options.error = HistogramSpec{64, -0.006, 0.006};
            const cuda::FusedTiming t =
                cuda::timeBlockPass(device, weights, format, job, writeBlocks, options, 10);
            const std::string name = "threshold + " + dtypeName(format) + ", 3 histograms + sums" +
                                     (writeBlocks ? ", blocks written" : ", statistics only");
            md << "| " << name << " | " << t.medianMs << " | " << t.minMs << " | "
               << static_cast<double>(weights) * 4 / (t.medianMs * 1e6) << " |\n";
            std::cout << name << ": " << t.medianMs << " ms (zeros " << t.result.zeros
                      << ", sum err^2 " << t.result.sumSquaredError << ")\n"
                      << std::flush;
        }
    return failures;
}
#endif

int main(int argc, char** argv) {
    if (argc != 1 && argc < 4) {
        std::fprintf(
            stderr,
            "usage: cuda_bench [FIXTURES_DIR DATASET_DIR OUT_DIR [WEIGHTS] [self | fused | "
            "blocks | distill [BATCH [small]] | with MODEL... | eval MODEL...]]\n");
        return 2;
    }
    const bool defaults = argc == 1;
    const std::string fixtures =
        defaults ? std::string(CWB_SOURCE_DIR) + "/tests/fixtures/models" : argv[1];
    const std::string datasetDir = defaults ? "/usr/share/datasets/fashion-mnist" : argv[2];
    const std::string outDir = defaults ? "/tmp/cwb_cuda_bench" : argv[3];
    if (defaults) std::filesystem::create_directories(outDir);
    [[maybe_unused]] const long long weights =
        argc > 4 ? static_cast<long long>(std::atof(argv[4])) : 1000000000ll;
    try {
        for (const DeviceInfo& d : listDevices())
            std::printf("device %s: %s%s\n", d.name.c_str(), d.description.c_str(),
                        d.available ? "" : (" (" + d.unavailableReason + ")").c_str());
        llmShard() = fixtures + "/../llm/kjv-llama-6m/model-00001-of-00002.safetensors";
        std::vector<std::string> extra;
        const std::string mode = argc > 5 ? argv[5] : "";
        if (mode == "with" || mode == "eval") extra.assign(argv + 6, argv + argc);
        const std::vector<std::string> models = modelPaths(fixtures, extra);
        // The plans for bench/torch_cuda_anchor.py (they need no GPU).
        for (const std::string& path : models)
            writePlan(compilePlan(loadModel(path)), outDir + "/plan_" + fileName(path));
        if (argc > 5 && std::string(argv[5]) == "self") {
            const Dataset data = loadFashionMnist(datasetDir, Split::Test);
            return runChecks(cpuBackend(), models, data) ? 1 : 0;
        }
        const BackendChoice choice = chooseBackend("cuda");
        if (choice.backend == &cpuBackend()) {
            std::printf("SKIP: no GPU: %s\n", choice.note.c_str());
            return 0;
        }
        Backend& gpu = *choice.backend;
        if (argc > 5 && std::string(argv[5]) == "distill")
            return runDistillation(gpu, fixtures, datasetDir, outDir,
                                   argc > 6 ? std::atoi(argv[6]) : 32,
                                   argc > 7 && std::string(argv[7]) == "small");
#ifdef CWB_HAVE_CUDA
        if (argc > 5 && std::string(argv[5]) == "fused") {  // no dataset needed
            std::ostringstream md;
            const int checks = checkFusedCases(gpu);
            md << "Fused-pass checks against the CPU: " << (checks ? "FAILED" : "all PASS")
               << "\n\n";
            const int failures = checks + timeFusedPasses(gpu, weights, md);
            std::ofstream(outDir + "/cuda_bench_fused.md") << md.str();
            std::cout << "\n" << md.str();
            return failures ? 1 : 0;
        }
        if (argc > 5 && std::string(argv[5]) == "blocks") {  // the block formats alone
            std::ostringstream md;
            const int failures = checkAndTimeBlocks(gpu, weights, md);
            std::ofstream(outDir + "/cuda_bench_blocks.md") << md.str();
            std::cout << "\n" << md.str();
            return failures ? 1 : 0;
        }
#endif
        const Dataset data = loadFashionMnist(datasetDir, Split::Test);
        int failures = mode == "eval" ? 0 : runChecks(gpu, models, data);
#ifdef CWB_HAVE_CUDA
        std::ostringstream md;
        if (mode != "eval") failures += timeFusedPasses(gpu, weights, md);
        md << "\n## Evaluation of the 10 000 test images, data on the GPU\n\n"
              "| model | MFLOP/img | GPU math | accuracy (GPU) | batch 10 000 ms "
              "| batch 1 000 x 10 ms |\n|---|---|---|---|---|---|\n";
        for (const std::string& path : models) {
            const std::string name = fileName(path);
            const Model model = loadModel(path);
            for (const GpuMath math : {GpuMath::Float32, GpuMath::Tf32}) {
                CompressedEngineOptions options;
                options.kernel = KernelChoice::Float;
                options.engine.gpuMath = math;
                auto engine = gpu.makeEngine(model, options, nullptr);
                EvalOptions eval;
                eval.batchSize = 10000;
                const double accuracy = evaluate(*engine, data, eval).accuracy;
                const auto whole = cuda::timeForward(*engine, data.images.data(), 10000, 10);
                const auto slices = cuda::timeForward(*engine, data.images.data(), 1000, 10);
                const char* mathName = math == GpuMath::Tf32 ? "tf32" : "float32";
                md << "| " << name << " | " << model.flopsPerSample() / 1e6 << " | " << mathName
                   << " | " << accuracy << " | " << whole.medianMs << " | " << slices.medianMs * 10
                   << " |\n";
                std::cout << name << " (" << mathName << "): " << whole.medianMs << " ms at 10000, "
                          << slices.medianMs * 10 << " ms at 1000 x 10\n";
                // Where the time goes at batch 10 000 (one pass, an event after each step).
                for (const auto& [step, ms] :
                     cuda::profileForward(*engine, data.images.data(), 10000))
                    std::printf("    %-40s %8.3f ms\n", step.c_str(), ms);
                std::fflush(stdout);
            }
        }
        std::ofstream(outDir + "/cuda_bench.md") << md.str();
        std::cout << "\n" << md.str();
#endif
        return failures ? 1 : 0;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "cuda_bench: %s\n", e.what());
        return 1;
    }
}
