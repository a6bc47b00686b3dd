// The Llama forward pass on a CUDA GPU against the CPU's, and its speed. Where no GPU runs, it
// says why and exits.
//   llm_cuda_bench check TOKENS   perplexity of kjv-llama-6m (safetensors bf16 and the Q8_0,
//                                 Q4_0, Q4_K GGUFs) on the GPU and the CPU over the token ids
//                                 in TOKENS (int32, eval_revelation.txt as its tokenizer gives
//                                 them), and 32 greedy tokens from each
//   llm_cuda_bench [speed] [-p 512] [-n 128] [FORMAT ...]
//                                 tokens/s on TinyLlama-1.1B's shape with random weights made
//                                 in memory (F16, Q8_0, Q4_0, Q4_K): prefill of p tokens and
//                                 generation of n, as llama-bench measures them
//   llm_cuda_bench gguf DIR [FORMAT ...]
//                                 the speed mode's random weights (F16, Q8_0, Q4_0, Q4_K by
//                                 default) as DIR/tinyllama-FORMAT.gguf with kjv-llama-6m's
//                                 vocabulary (padded to 32 000), so that llama-bench runs the
//                                 very weights `speed` measures; needs no GPU
//   llm_cuda_bench batch [-p 512] [-b 8] [FORMAT ...]
//                                 tokens/s of LlamaRunner::prefillBatch (b independent
//                                 sequences of p tokens, transformers' batched prefill) and of
//                                 one sequence, F16 BF16 Q8_0 Q4_0 Q4_K by default, and the
//                                 batch's logits against forward()'s per sequence
// Prints markdown tables on stdout (bench/results/llm_cuda.md records them); where no GPU runs it
// says why and exits 0, so bench/run_all.sh passes on CPU machines.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "core/backend/backend.h"
#include "core/error.h"
#include "core/io/gguf_llama.h"
#include "core/io/gguf_llama_writer.h"
#include "core/io/hf_checkpoint.h"
#include "core/llm/generate.h"
#include "core/llm/llama_forward.h"
#include "core/llm/llm_speed.h"
#include "core/llm/perplexity.h"
#include "core/llm/synthetic_checkpoint.h"
#include "core/model/tensor.h"

using namespace cwb;

namespace {

std::string fixture(const std::string& name) {
    return std::string(CWB_SOURCE_DIR) + "/tests/fixtures/llm/" + name;
}

std::vector<std::int32_t> readTokens(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::vector<std::int32_t> ids;
    std::int32_t id = 0;
    while (in.read(reinterpret_cast<char*>(&id), sizeof id)) ids.push_back(id);
    if (ids.empty()) throw Error(path + ": no token ids");
    return ids;
}

// The CPU's logits of the first 64 tokens (llama_forward_test holds them to transformers' within
// 1e-3) against the GPU's from a prefill of 60 tokens and 4 single-token steps through the KV
// cache: the largest |difference|.
double logitsDifference(Backend& gpu, const std::vector<std::int32_t>& tokens) {
    const LlamaCheckpoint ckpt = openHfCheckpoint(fixture("kjv-llama-6m"));
    const auto ids = std::span(tokens).first(64);
    std::vector<float> cpu, logits;
    LlamaForward(ckpt.config, ckpt.weights, {0, 128, {}}).forward(ids, 0, 64, cpu);
    const auto runner = gpu.makeLlamaRunner(ckpt.config, ckpt.weights, {0, 128, {}});
    const std::size_t vocab = static_cast<std::size_t>(ckpt.config.vocabSize);
    double worst = 0;
    auto compare = [&](std::size_t from, std::size_t to) {
        for (std::size_t i = 0; i < (to - from) * vocab; ++i)
            worst = std::max(worst, double(std::fabs(logits[i] - cpu[from * vocab + i])));
    };
    runner->forward(ids.first(60), 0, 60, logits);
    compare(0, 60);
    for (std::size_t p = 60; p < 64; ++p) {
        runner->forward(ids.subspan(p, 1), 0, 1, logits);
        compare(p, p + 1);
    }
    return worst;
}

// Largest |a - b| and largest |b| over two sets of logits of equal size.
std::pair<double, double> difference(const std::vector<float>& a, const std::vector<float>& b) {
    double worst = 0, scale = 0;
    for (std::size_t i = 0; i < a.size(); ++i) {
        worst = std::max(worst, double(std::fabs(a[i] - b[i])));
        scale = std::max(scale, double(std::fabs(b[i])));
    }
    return {worst, scale};
}

// Rows whose largest logit is at the same index in both.
int sameArgmax(const std::vector<float>& a, const std::vector<float>& b, std::size_t vocab) {
    int same = 0;
    for (std::size_t r = 0; r < a.size() / vocab; ++r) {
        const auto ra = a.begin() + static_cast<std::ptrdiff_t>(r * vocab);
        const auto rb = b.begin() + static_cast<std::ptrdiff_t>(r * vocab);
        same += std::max_element(ra, ra + static_cast<std::ptrdiff_t>(vocab)) - ra ==
                std::max_element(rb, rb + static_cast<std::ptrdiff_t>(vocab)) - rb;
    }
    return same;
}

// The batched prefill (4 sequences of 100 tokens: a part-filled key tile, head size 32) against
// the CPU's forward() of each sequence: the largest |difference| relative to the largest logit.
int checkBatch(Backend& gpu, const std::vector<std::int32_t>& tokens) {
    constexpr int kSequences = 4, kLength = 100;
    const auto ids = std::span(tokens).first(kSequences * kLength);
    std::printf(
        "\n| checkpoint (batched prefill, %d x %d) | max abs diff | max abs logit | relative "
        "| same argmax |\n|---|---|---|---|---|\n",
        kSequences, kLength);
    int failures = 0;
    for (const char* file : {"kjv-llama-6m", "kjv-llama-6m.Q8_0.gguf", "kjv-llama-6m.Q4_0.gguf"}) {
        const std::string path = fixture(file);
        const LlamaCheckpoint ckpt =
            path.ends_with(".gguf") ? openGgufCheckpoint(path) : openHfCheckpoint(path);
        LlamaForward cpu(ckpt.config, ckpt.weights, {0, 128, {}});
        std::vector<float> reference, one, batch;
        for (int s = 0; s < kSequences; ++s) {
            cpu.reset();
            cpu.forwardLast(ids.subspan(std::size_t(s) * kLength, kLength), one);
            reference.insert(reference.end(), one.begin(), one.end());
        }
        const auto runner = gpu.makeLlamaRunner(ckpt.config, ckpt.weights, {0, 128, {}});
        runner->prefillBatch(ids, kSequences, batch);
        const auto [worst, scale] = difference(batch, reference);
        const double relative = worst / scale;
        const bool ok = relative <= 0.02 && runner->position() == 0;
        failures += ok ? 0 : 1;
        std::printf("| %s | %.3e | %.3f | %.2e | %d of %d |%s\n", file, worst, scale, relative,
                    sameArgmax(batch, reference, std::size_t(ckpt.config.vocabSize)), kSequences,
                    ok ? "" : " FAIL");
    }
    return failures;
}

int check(Backend& gpu, const std::string& tokensPath) {
    const auto tokens = readTokens(tokensPath);
    const double error = logitsDifference(gpu, tokens);
    std::printf(
        "GPU logits against the CPU's (60 prefilled, 4 cached steps): max |difference| %.2e%s\n\n",
        error, error <= 1e-3 ? "" : " FAIL");
    struct Row {
        const char* name;
        const char* file;
        double expected;  // EXPECTED.md
    };
    const Row rows[] = {{"bf16 safetensors", "kjv-llama-6m", 29.8523},
                        {"Q8_0 GGUF", "kjv-llama-6m.Q8_0.gguf", 29.8525},
                        {"Q4_0 GGUF", "kjv-llama-6m.Q4_0.gguf", 30.1626},
                        {"Q4_K GGUF", "kjv-llama-6m.Q4_K.gguf", 30.0444}};
    std::printf(
        "| checkpoint | EXPECTED.md | CPU | GPU | GPU vs CPU | GPU s | CPU s | greedy 32 equal "
        "|\n");
    std::printf("|---|---|---|---|---|---|---|---|\n");
    int failures = 0;
    for (const Row& row : rows) {
        const std::string path = fixture(row.file);
        const LlamaCheckpoint ckpt =
            path.ends_with(".gguf") ? openGgufCheckpoint(path) : openHfCheckpoint(path);
        PerplexityOptions options;
        const PerplexityResult cpu = measurePerplexity(ckpt.config, ckpt.weights, tokens, options);
        options.backend = &gpu;
        measurePerplexity(ckpt.config, ckpt.weights, tokens, options);  // warm-up
        const PerplexityResult g = measurePerplexity(ckpt.config, ckpt.weights, tokens, options);
        const double rel = g.stats.perplexity / cpu.stats.perplexity - 1.0;
        GenerateOptions gen;
        gen.maxTokens = 32;
        const auto prompt = std::span(tokens).first(8);
        const GenerateResult a = generateGreedy(ckpt.config, ckpt.weights, prompt, gen);
        gen.backend = &gpu;
        const GenerateResult b = generateGreedy(ckpt.config, ckpt.weights, prompt, gen);
        const bool same = a.tokens == b.tokens;
        const bool ok = std::fabs(rel) <= 0.001;  // greedy text may part at a near tie
        failures += ok ? 0 : 1;
        std::printf("| %s | %.4f | %.4f | %.4f | %+.4f %% | %.3f | %.3f | %s |%s\n", row.name,
                    row.expected, cpu.stats.perplexity, g.stats.perplexity, rel * 100, g.seconds,
                    cpu.seconds, same ? "yes" : "no", ok ? "" : " FAIL");
    }
    failures += checkBatch(gpu, tokens);
    std::printf("\n%s\n", failures ? "SOME CHECKS FAILED"
                                   : "all checks passed (GPU within 0.1 % of the CPU)");
    return failures || error > 1e-3 ? 1 : 0;
}

// Random bytes for a tensor: fast, deterministic, on all cores. Block formats get small
// positive f16 scales in their scale fields so that values stay in a plausible range.
std::uint64_t mix(std::uint64_t x) {
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ull;
    return x ^ (x >> 33);
}

Tensor randomTensor(const Shape& shape, DType type, std::uint64_t seed) {
    const std::size_t bytes =
        dtypeStorageBytes(type, static_cast<std::uint64_t>(shapeElements(shape)));
    auto storage = std::make_shared<OwnedStorage>(bytes);
    std::byte* data = storage->mutableData();
    const unsigned threads = std::max(1u, std::thread::hardware_concurrency());
    const std::size_t words = bytes / 8;
    std::vector<std::thread> pool;
    for (unsigned w = 0; w < threads; ++w)
        pool.emplace_back([&, w] {
            for (std::size_t i = words * w / threads; i < words * (w + 1) / threads; ++i) {
                const std::uint64_t v = mix(seed * 0x9E3779B97F4A7C15ull + i);
                std::memcpy(data + i * 8, &v, 8);
            }
        });
    for (auto& t : pool) t.join();
    // f16 values: keep the sign and mantissa, set an exponent of 2^-7 .. 2^-6 (|w| < 0.016).
    auto fixHalf = [&](std::size_t at) {
        std::uint16_t h;
        std::memcpy(&h, data + at, 2);
        h = static_cast<std::uint16_t>((h & 0x83FF) | (8u << 10));
        std::memcpy(data + at, &h, 2);
    };
    auto fixScale = [&](std::size_t at) {  // a positive scale of 2^-12 .. 2^-11
        std::uint16_t h;
        std::memcpy(&h, data + at, 2);
        h = static_cast<std::uint16_t>((h & 0x03FF) | (3u << 10));
        std::memcpy(data + at, &h, 2);
    };
    const std::size_t blocks = bytes / dtypeBlockBytes(type);
    switch (type) {
        case DType::F16:
            for (std::size_t i = 0; i + 1 < bytes; i += 2) fixHalf(i);
            break;
        case DType::BF16:  // the same range in bf16's bits: exponent 2^-7, sign, 7 bits
            for (std::size_t i = 0; i + 1 < bytes; i += 2) {
                std::uint16_t b;
                std::memcpy(&b, data + i, 2);
                b = static_cast<std::uint16_t>((b & 0x807F) | (120u << 7));
                std::memcpy(data + i, &b, 2);
            }
            break;
        case DType::Q8_0:
        case DType::Q4_0:
            for (std::size_t b = 0; b < blocks; ++b) fixScale(b * dtypeBlockBytes(type));
            break;
        case DType::Q4_K:
            for (std::size_t b = 0; b < blocks; ++b) {
                fixScale(b * 144);
                fixScale(b * 144 + 2);
            }
            break;
        default:
            throw Error("speed: no random weights for " + dtypeName(type));
    }
    return Tensor(shape, type, storage);
}

LlamaWeights randomWeights(const LlamaConfig& c, DType type) {
    const std::int64_t h = c.hiddenSize, q = std::int64_t(c.heads) * c.headDim,
                       kv = std::int64_t(c.kvHeads) * c.headDim, f = c.intermediateSize;
    std::uint64_t seed = 1;
    auto ones = [](std::int64_t n) { return Tensor::fromFloats({n}, std::vector<float>(n, 1.f)); };
    LlamaWeights w;
    w.embedding = randomTensor({c.vocabSize, h}, type, seed++);
    for (int l = 0; l < c.layers; ++l) {
        LlamaBlockWeights b;
        b.attnNorm = ones(h);
        b.ffnNorm = ones(h);
        b.q = randomTensor({q, h}, type, seed++);
        b.k = randomTensor({kv, h}, type, seed++);
        b.v = randomTensor({kv, h}, type, seed++);
        b.o = randomTensor({h, q}, type, seed++);
        b.gate = randomTensor({f, h}, type, seed++);
        b.up = randomTensor({f, h}, type, seed++);
        b.down = randomTensor({h, f}, type, seed++);
        w.blocks.push_back(std::move(b));
    }
    w.finalNorm = ones(h);
    w.output = randomTensor({c.vocabSize, h}, type, seed++);
    return w;
}

int speed(Backend& gpu, int p, int n, const std::vector<std::string>& formats) {
    const LlamaConfig config = syntheticShape("tinyllama");
    std::printf(
        "| format | weights GB | prefill %d tokens/s | generation %d tokens/s | weight bytes/token "
        "| read GB/s | of the copy bandwidth |\n",
        p, n);
    std::printf("|---|---|---|---|---|---|---|\n");
    for (const std::string& name : formats) {
        DType type = DType::F32;
        if (!parseDType(name, type)) throw Error("speed: unknown format " + name);
        const LlamaWeights weights = randomWeights(config, type);
        SpeedOptions options;
        options.backend = &gpu;
        options.promptTokens = p;
        options.generateTokens = n;
        options.repetitions = 5;
        const SpeedResult r = measureSpeed(config, weights, options);
        std::printf("| %s | %.2f | %.0f | %.1f | %.3g | %.0f | %.0f %% of %.0f GB/s |\n",
                    name.c_str(), r.weightBytesPerToken * 1e-9, r.prefillTokensPerSecond,
                    r.generateTokensPerSecond, double(r.weightBytesPerToken),
                    r.weightBytesPerToken * r.generateTokensPerSecond * 1e-9,
                    r.bandwidthFraction * 100, r.readBandwidth * 1e-9);
        std::fflush(stdout);
    }
    return 0;
}

// The weights of `speed` for each format as GGUF files that llama-bench loads.
int writeGgufs(const std::string& dir, const std::vector<std::string>& formats) {
    const LlamaConfig config = syntheticShape("tinyllama");
    const Vocabulary vocabulary = openGgufCheckpoint(fixture("kjv-llama-6m.Q8_0.gguf")).vocabulary;
    for (const std::string& name : formats) {
        DType type = DType::F32;
        if (!parseDType(name, type)) throw Error("gguf: unknown format " + name);
        const std::string path = dir + "/tinyllama-" + name + ".gguf";
        GgufLlamaOutput output;
        output.name = "tinyllama-shape-random";
        output.fileType = type;
        writeLlamaGguf(path, config, randomWeights(config, type), vocabulary, output);
        std::printf("wrote %s\n", path.c_str());
        std::fflush(stdout);
    }
    return 0;
}

double secondsOf(const std::function<void()>& run) {
    const auto start = std::chrono::steady_clock::now();
    run();
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

double medianOf(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
}

// prefillBatch of `b` sequences of `p` tokens and of one, median of 5 after a warm-up each; then
// the batch's logits against forward()'s of each sequence on the same runner.
int batch(Backend& gpu, int p, int b, const std::vector<std::string>& formats) {
    const LlamaConfig config = syntheticShape("tinyllama");
    std::printf(
        "| format | prefill %d x %d tokens/s | prefill %d x 1 (batch path) | prefill %d "
        "(forward) | batch vs forward: max rel diff | same argmax |\n",
        p, b, p, p);
    std::printf("|---|---|---|---|---|---|\n");
    std::vector<std::int32_t> ids(static_cast<std::size_t>(p) * b);
    std::uint32_t state = 777;
    for (auto& id : ids) {
        state = state * 1664525u + 1013904223u;
        id = static_cast<std::int32_t>((state >> 8) % std::uint32_t(config.vocabSize));
    }
    int failures = 0;
    for (const std::string& name : formats) {
        DType type = DType::F32;
        if (!parseDType(name, type)) throw Error("batch: unknown format " + name);
        const LlamaWeights weights = randomWeights(config, type);
        const auto runner = gpu.makeLlamaRunner(config, weights, {0, p, {}});
        std::vector<float> logits, one, reference;
        auto rate = [&](int sequences, bool viaForward) {
            const auto part = std::span(ids).first(static_cast<std::size_t>(p) * sequences);
            auto run = [&] {
                if (viaForward) {
                    runner->reset();
                    runner->forwardLast(part, one);
                } else {
                    runner->prefillBatch(part, sequences, logits);
                }
            };
            run();
            std::vector<double> times;
            for (int r = 0; r < 5; ++r) times.push_back(secondsOf(run));
            return double(p) * sequences / medianOf(times);
        };
        const double batched = rate(b, false), single = rate(1, false), plain = rate(1, true);
        runner->prefillBatch(ids, b, logits);
        for (int s = 0; s < b; ++s) {
            runner->reset();
            runner->forwardLast(std::span(ids).subspan(std::size_t(s) * p, p), one);
            reference.insert(reference.end(), one.begin(), one.end());
        }
        const auto [worst, scale] = difference(logits, reference);
        const bool ok = worst / scale <= 0.02;
        failures += ok ? 0 : 1;
        std::printf("| %s | %.0f | %.0f | %.0f | %.2e (max |logit| %.3g) | %d of %d |%s\n",
                    name.c_str(), batched, single, plain, worst / scale, scale,
                    sameArgmax(logits, reference, std::size_t(config.vocabSize)), b,
                    ok ? "" : " FAIL");
        std::fflush(stdout);
    }
    return failures ? 1 : 0;
}

}  // namespace

namespace {
Backend* gpuBackend() {
    const BackendChoice choice = chooseBackend("cuda");
    if (!choice.note.empty()) {
        std::fprintf(stderr, "llm_cuda_bench: %s\n", choice.note.c_str());
        return nullptr;
    }
    return choice.backend;
}
}  // namespace

int main(int argc, char** argv) {
    try {
        const std::vector<std::string> args(argv + 1, argv + argc);
        const std::vector<std::string> speedFormats = {"F16", "Q8_0", "Q4_0", "Q4_K"};
        if (args.size() > 1 && args[0] == "gguf")
            return writeGgufs(args[1], args.size() > 2
                                           ? std::vector<std::string>(args.begin() + 2, args.end())
                                           : speedFormats);
        Backend* gpu = gpuBackend();
        if (!gpu) return 0;  // no GPU here: nothing to measure
        if (!args.empty() && args[0] == "check") return args.size() > 1 ? check(*gpu, args[1]) : 2;
        const bool batched = !args.empty() && args[0] == "batch";
        int p = 512, n = 128, b = 8;
        std::vector<std::string> formats;
        for (std::size_t i = !args.empty() && (args[0] == "speed" || batched) ? 1 : 0;
             i < args.size(); ++i) {
            if (args[i] == "-p" && i + 1 < args.size())
                p = std::stoi(args[++i]);
            else if (args[i] == "-n" && i + 1 < args.size())
                n = std::stoi(args[++i]);
            else if (args[i] == "-b" && i + 1 < args.size())
                b = std::stoi(args[++i]);
            else
                formats.push_back(args[i]);
        }
        if (batched)
            return batch(*gpu, p, b,
                         formats.empty()
                             ? std::vector<std::string>{"F16", "BF16", "Q8_0", "Q4_0", "Q4_K"}
                             : formats);
        if (formats.empty()) formats = speedFormats;
        return speed(*gpu, p, n, formats);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "llm_cuda_bench: %s\n", e.what());
        return 1;
    }
}
