// Language-model speed on the CPU: the perplexity run of kjv-llama-6m over eval_revelation.txt
// (llama-perplexity's protocol, 71 chunks of 256) and tokens/s as llama-bench measures them
// (prefill of 64 tokens, generation of 16) on cwb synth's tinyllama shape in Q8_0, Q4_0, Q4_K
// and F16, with generation's weight bytes per second against a read bandwidth measured in the
// same run. Writes bench/results/llm_bench.md.
//   llm_bench [--threads N] [--out FILE] [--no-tinyllama] [--tinyllama-dir DIR] [--rounds N]
//             [--formats Q4_K,F16]   (the tinyllama formats measured; all four unless named)
// The tinyllama folder (2.2 GB) is written to a temporary folder and removed, or to DIR and
// kept (and reused when DIR exists).
// With LLAMA_CPP_BIN naming llama.cpp's bin folder (llama-bench in it), each tinyllama format
// is also written as a GGUF file (cwb quantize's writer) and both programs measure that same
// file back to back, twice in turn (cwb, llama-bench, cwb, llama-bench; --rounds), the better
// of each pair kept: the anchor comes from the same machine, the same load and the same weights.
// On the shared VM run it through bench/quiet.sh (both programs then share one scheduler group
// at nice -20, which the results file states): under other sessions' builds llama-bench's
// spinning barriers lose 90 % of their speed and the ratios say nothing about the kernels.
#include <time.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "bench/support/bench_util.h"
#include "core/io/gguf_llama_writer.h"
#include "core/io/llama_checkpoint.h"
#include "core/llm/checkpoint_tokenizer.h"
#include "core/llm/llm_compress.h"
#include "core/llm/llm_speed.h"
#include "core/llm/perplexity.h"
#include "core/llm/synthetic_checkpoint.h"
#include "core/quant/block_formats.h"

using namespace cwb;
using namespace cwb::bench;
namespace fs = std::filesystem;

namespace {

std::string fixture(const std::string& name) {
    return std::string(CWB_SOURCE_DIR) + "/tests/fixtures/llm/" + name;
}

std::string format(const char* pattern, double a, double b = 0, double c = 0, double d = 0) {
    char text[256];
    std::snprintf(text, sizeof text, pattern, a, b, c, d);
    return text;
}

struct PplRow {
    std::string model, prefill;
    double perplexity, wall, cpu;
};

PplRow perplexityRow(const std::string& name, const LlamaCheckpoint& ckpt,
                     const std::vector<int>& tokens, int threads, const std::string& prefill) {
    PerplexityOptions options;
    options.threads = threads;
    const double cpu0 = processCpuSeconds();
    const PerplexityResult r = measurePerplexity(ckpt.config, ckpt.weights, tokens, options);
    const PplRow row{name, prefill, r.stats.perplexity, r.seconds, processCpuSeconds() - cpu0};
    std::printf("ppl %s (%s): %.4f in %.2f s wall, %.2f s CPU\n", name.c_str(), prefill.c_str(),
                row.perplexity, row.wall, row.cpu);
    return row;
}

struct SpeedRow {
    std::string model;
    SpeedResult r;
    double anchorPrefill, anchorGenerate;
    bool sameRun = false;  // the anchor is llama-bench on the same file in this run
};

struct LlamaBenchResult {
    double prefill = 0, generate = 0;  // tokens/s, llama-bench's avg_ts of pp64 and tg16
};

// llama-bench -m FILE -t THREADS -p 64 -n 16 -r 3 -o json, read back.
LlamaBenchResult runLlamaBench(const std::string& bin, const std::string& model, int threads) {
    const std::string command = "LD_LIBRARY_PATH='" + bin + "' '" + bin + "/llama-bench' -m '" +
                                model + "' -t " + std::to_string(threads) +
                                " -p 64 -n 16 -r 3 -o json 2>/dev/null";
    FILE* pipe = popen(command.c_str(), "r");
    if (!pipe) throw std::runtime_error("cannot run " + command);
    std::string out;
    char buffer[4096];
    for (std::size_t n; (n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0;)
        out.append(buffer, n);
    if (pclose(pipe) != 0) throw std::runtime_error(command + " failed");
    LlamaBenchResult r;
    for (const auto& test : nlohmann::json::parse(out)) {
        if (test.value("n_prompt", 0) == 64 && test.value("n_gen", 0) == 0)
            r.prefill = test.at("avg_ts").get<double>();
        if (test.value("n_gen", 0) == 16 && test.value("n_prompt", 0) == 0)
            r.generate = test.at("avg_ts").get<double>();
    }
    return r;
}

}  // namespace

constexpr const char* kUsage =
    "llm_bench [--threads N] [--out FILE] [--no-tinyllama] [--tinyllama-dir DIR] [--rounds N] "
    "[--formats Q4_K,F16]";

int main(int argc, char** argv) {
    std::setvbuf(stdout, nullptr, _IOLBF, 0);  // progress lines as they come, also into a log
    int threads = 2;
    bool tinyllama = true;
    std::string tinyDir;
    int rounds = 2;
    std::string onlyFormats;
    std::string outPath = std::string(CWB_SOURCE_DIR) + "/bench/results/llm_bench.md";
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        const bool valued = i + 1 < argc;
        if (a == "--threads" && valued)
            threads = std::max(1, std::atoi(argv[++i]));
        else if (a == "--out" && valued)
            outPath = argv[++i];
        else if (a == "--no-tinyllama")
            tinyllama = false;
        else if (a == "--tinyllama-dir" && valued)
            tinyDir = argv[++i];
        else if (a == "--rounds" && valued)
            rounds = std::max(1, std::atoi(argv[++i]));
        else if (a == "--formats" && valued)
            onlyFormats = argv[++i];
        else
            refuseOption(a, kUsage);
    }
    try {
        const std::string loadBefore = loadAverage();
        // Perplexity of kjv-llama-6m: the bf16 folder, and the Q8_0 GGUF file as it is.
        const LlamaCheckpoint hf = openLlamaCheckpoint(fixture("kjv-llama-6m"));
        const LlamaCheckpoint q8 = openLlamaCheckpoint(fixture("kjv-llama-6m.Q8_0.gguf"));
        std::ifstream textFile(fixture("eval_revelation.txt"), std::ios::binary);
        const std::string text{std::istreambuf_iterator<char>(textFile), {}};
        const auto tokens = loadCheckpointTokenizer(hf)->encode(text, true);
        std::vector<PplRow> ppl;
        ppl.push_back(perplexityRow("kjv-llama-6m (bf16 safetensors)", hf, tokens, threads,
                                    quant::activeIsa() == quant::Isa::Avx512
                                        ? "bf16 rows converted to float32 a block at a time, "
                                          "AVX-512 float tiles"
                                        : "bf16 rows converted to float32 a block at a time, "
                                          "AVX2 float tiles"));
        ppl.push_back(perplexityRow("kjv-llama-6m.Q8_0.gguf", q8, tokens, threads,
                                    "packed Q8_0 x Q8_0 activations"));

        // Tokens/s on the tinyllama shape, quantized by the workbench from bf16 noise.
        std::vector<SpeedRow> speed;
        SpeedOptions speedOptions;
        speedOptions.threads = threads;
        speedOptions.repetitions = 3;
        {
            const SpeedResult r = measureSpeed(q8.config, q8.weights, speedOptions);
            speed.push_back({"kjv-llama-6m.Q8_0.gguf", r, 0, 0});
        }
        if (tinyllama) {
            const bool keep = !tinyDir.empty();
            const fs::path dir =
                keep ? fs::path(tinyDir) : fs::temp_directory_path() / "cwb-llm-bench-tinyllama";
            if (!keep) fs::remove_all(dir);
            if (!fs::exists(dir)) {
                std::printf("writing the tinyllama shape to %s\n", dir.c_str());
                // The shipped tokenizer, as `cwb synth` copies it: the GGUF files embed it.
                SyntheticCheckpointOptions so;
                so.tokenizerModel = std::string(CWB_SOURCE_DIR) + "/resources/llm/tokenizer.model";
                writeSyntheticCheckpoint(syntheticShape("tinyllama"), dir.string(), so, {});
            }
            const LlamaCheckpoint tiny = openLlamaCheckpoint(dir.string());
            const char* llamaBin = std::getenv("LLAMA_CPP_BIN");
            const struct {
                DType type;
                double prefill, generate;  // llama-bench on the project's 2-core machine
            } formats[] = {{DType::Q8_0, 78, 27.4},
                           {DType::Q4_0, 146, 48.8},
                           {DType::Q4_K, 64, 38.8},
                           {DType::F16, 117, 18.6}};
            for (const auto& f : formats) {
                if (!onlyFormats.empty() &&
                    ("," + onlyFormats + ",").find("," + dtypeName(f.type) + ",") ==
                        std::string::npos)
                    continue;
                LlmCompression c;
                c.format = f.type;
                c.scope = LlmScope::All;
                LlmCompressOptions co;
                co.threads = threads;
                co.stats.histograms = false;
                if (llamaBin && *llamaBin) {
                    // Written once and kept beside the folder: quantizing takes minutes.
                    const fs::path gguf = dir / ("tinyllama." + dtypeName(f.type) + ".gguf");
                    if (!fs::exists(gguf))
                        writeLlamaGguf(gguf.string(), tiny.config,
                                       compressLlama(tiny.config, tiny.weights, c, co).weights,
                                       loadCheckpointTokenizer(tiny)->vocabulary(),
                                       {"tinyllama", f.type, {}});
                    const LlamaCheckpoint file = openLlamaCheckpoint(gguf.string());
                    SpeedResult best;
                    LlamaBenchResult anchor;
                    for (int round = 0; round < rounds; ++round) {
                        const SpeedResult r = measureSpeed(file.config, file.weights, speedOptions);
                        const LlamaBenchResult l = runLlamaBench(llamaBin, gguf.string(), threads);
                        std::printf(
                            "tinyllama %s round %d: cwb %.1f / %.2f tok/s (%.0f %% of %.1f GB/s), "
                            "llama-bench %.1f / %.2f, load %s\n",
                            dtypeName(f.type).c_str(), round + 1, r.prefillTokensPerSecond,
                            r.generateTokensPerSecond, 100 * r.bandwidthFraction,
                            r.readBandwidth / 1e9, l.prefill, l.generate, loadAverage().c_str());
                        if (round == 0) best = r;
                        best.prefillTokensPerSecond =
                            std::max(best.prefillTokensPerSecond, r.prefillTokensPerSecond);
                        if (r.generateTokensPerSecond > best.generateTokensPerSecond) {
                            best.generateTokensPerSecond = r.generateTokensPerSecond;
                            best.bandwidthFraction = r.bandwidthFraction;
                            best.readBandwidth = r.readBandwidth;
                        }
                        anchor.prefill = std::max(anchor.prefill, l.prefill);
                        anchor.generate = std::max(anchor.generate, l.generate);
                    }
                    speed.push_back({"tinyllama " + dtypeName(f.type) + " (GGUF file)", best,
                                     anchor.prefill, anchor.generate, true});
                    continue;
                }
                const auto compressed = compressLlama(tiny.config, tiny.weights, c, co);
                const SpeedResult r = measureSpeed(tiny.config, compressed.weights, speedOptions);
                std::printf(
                    "tinyllama %s: prefill %.1f tok/s, generation %.2f tok/s, %.0f %% of "
                    "the read bandwidth\n",
                    dtypeName(f.type).c_str(), r.prefillTokensPerSecond, r.generateTokensPerSecond,
                    100 * r.bandwidthFraction);
                speed.push_back({"tinyllama " + dtypeName(f.type), r, f.prefill, f.generate});
            }
            if (!keep) fs::remove_all(dir);
        }

        std::ostringstream md;
        md << "# Language models on the CPU (bench/llm_bench)\n\n"
           << "- Machine: " << cpuName() << ", " << std::thread::hardware_concurrency()
           << " cores; block kernels: " << quant::isaName(quant::activeIsa()) << "\n"
           << "- Threads: " << threads << "\n"
           << "- Load average (1/5/15 min) before: " << loadBefore << ", after: " << loadAverage()
           << "\n"
           << (autogroupNice() == "-20"
                   ? "- Run through bench/quiet.sh: this process and llama-bench in one scheduler "
                     "group at nice -20, other sessions' builds still running beside them\n"
                   : "")
           << "\n"
           << "## Perplexity of kjv-llama-6m over eval_revelation.txt\n\n"
           << "llama-perplexity's protocol: 71 chunks of 256 tokens, 9017 scored. Anchor: "
              "llama.cpp's llama-perplexity on the Q8_0 file took 6.3 s at 2 threads on the "
              "project's 2-core machine (an AVX-512 Xeon).\n\n"
           << "| model | products | perplexity | wall s | CPU s |\n|---|---|---|---|---|\n";
        for (const auto& r : ppl)
            md << "| " << r.model << " | " << r.prefill << " | "
               << format("%.4f | %.2f | %.2f", r.perplexity, r.wall, r.cpu) << " |\n";
        const bool sameRun = !speed.empty() && speed.back().sameRun;
        md << "\n## Tokens per second (llama-bench's pp64 and tg16)\n\n"
           << "Weights packed in their format and multiplied by the packed kernels (never decoded "
              "to float32). tinyllama: cwb synth's shape (hidden 2048, 22 layers, vocab 32000) "
              "with random bf16 weights quantized by the workbench, every 2-D tensor. "
           << (sameRun ? "Anchor: llama-bench (-p 64 -n 16 -r 3) on the same GGUF file (written "
                         "by cwb quantize's writer), measured back to back with cwb in this run, "
                         "in turn; the best of each program's rounds is kept. "
                       : "Anchor: llama-bench on the same shape on the project's earlier 2-core "
                         "machine (an AVX-512 Xeon), not this run. ")
           << "Bandwidth: the weight bytes a generated token reads times tokens/s, against a "
              "read of 256 MB by the same threads in the same run.\n\n"
           << "| model | prefill tok/s | anchor | ratio | generation tok/s | anchor | ratio | MB "
              "per token | read GB/s | of bandwidth |\n|---|---|---|---|---|---|---|---|---|---|\n";
        const auto ratio = [](double mine, double anchor) {
            return anchor > 0 ? format("%.2f", mine / anchor) : std::string();
        };
        for (const auto& s : speed)
            md << "| " << s.model << " | " << format("%.1f", s.r.prefillTokensPerSecond) << " | "
               << (s.anchorPrefill ? format("%.1f", s.anchorPrefill) : "") << " | "
               << ratio(s.r.prefillTokensPerSecond, s.anchorPrefill) << " | "
               << format("%.2f", s.r.generateTokensPerSecond) << " | "
               << (s.anchorGenerate ? format("%.2f", s.anchorGenerate) : "") << " | "
               << ratio(s.r.generateTokensPerSecond, s.anchorGenerate) << " | "
               << format("%.1f | %.1f | %.0f %%", s.r.weightBytesPerToken / 1e6,
                         s.r.readBandwidth / 1e9, 100 * s.r.bandwidthFraction)
               << " |\n";
        std::ofstream(outPath) << md.str();
        std::printf("%s", md.str().c_str());
    } catch (const std::exception& e) {
        std::fprintf(stderr, "llm_bench: %s\n", e.what());
        return 1;
    }
    return 0;
}
