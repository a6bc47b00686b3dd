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
// Prints markdown tables on stdout (bench/results/llm_cuda.md records them); where no GPU runs it
// says why and exits 0, so bench/run_all.sh passes on CPU machines.
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "core/backend/backend.h"
#include "core/error.h"
#include "core/io/gguf_llama.h"
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
        Backend* gpu = gpuBackend();
        if (!gpu) return 0;  // no GPU here: nothing to measure
        if (!args.empty() && args[0] == "check") return args.size() > 1 ? check(*gpu, args[1]) : 2;
        int p = 512, n = 128;
        std::vector<std::string> formats;
        for (std::size_t i = !args.empty() && args[0] == "speed" ? 1 : 0; i < args.size(); ++i) {
            if (args[i] == "-p" && i + 1 < args.size())
                p = std::stoi(args[++i]);
            else if (args[i] == "-n" && i + 1 < args.size())
                n = std::stoi(args[++i]);
            else
                formats.push_back(args[i]);
        }
        if (formats.empty()) formats = {"F16", "Q8_0", "Q4_0", "Q4_K"};
        return speed(*gpu, p, n, formats);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "llm_cuda_bench: %s\n", e.what());
        return 1;
    }
}
