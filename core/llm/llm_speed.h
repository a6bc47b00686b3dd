// Tokens per second of a Llama model on the CPU as llama-bench measures them: a prefill of
// p tokens into an empty cache, and the generation of n tokens one call at a time from an
// empty cache. Weights are used in the dtype they have (packed blocks stay packed).
// Generation reads every weight once per token, so its speed is set by memory: the result
// compares the bytes read per second with a read bandwidth measured in the same run.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "core/llm/llama_config.h"
#include "core/llm/llama_weights.h"

namespace cwb {

class Backend;

struct SpeedOptions {
    int promptTokens = 64;       // p (0: no prefill test)
    int generateTokens = 16;     // n (0: no generation test)
    int threads = 0;             // 0 = all cores
    Backend* backend = nullptr;  // where the model runs; null: the CPU
    int repetitions = 3;         // the median is reported
    bool measureBandwidth = true;
    std::function<bool()> cancel;  // checked before every layer
};

struct SpeedResult {
    int threads = 0;
    std::string device;  // where it ran: "cpu", "cuda:0"
    double prefillTokensPerSecond = 0.0;
    double generateTokensPerSecond = 0.0;
    // Bytes of the weights one generated token reads: every matrix and norm once, one
    // embedding row (the KV cache, a few kilobytes here, is left out).
    std::int64_t weightBytesPerToken = 0;
    double readBandwidth = 0.0;      // bytes/s: a large buffer read by the same threads or device
    double bandwidthFraction = 0.0;  // weightBytesPerToken * generation speed / readBandwidth
};

// The memory-read bandwidth in bytes/s: `bytes` (rounded to whole cache lines) summed by
// `threads` threads, best of a few passes.
double measureReadBandwidth(int threads, std::size_t bytes = std::size_t(256) << 20);

// The weight bytes a generated token reads (see SpeedResult).
std::int64_t weightBytesPerToken(const LlamaConfig& config, const LlamaWeights& weights);

// Throws cwb::Error when p + n exceeds the model's context, Cancelled when asked to stop.
SpeedResult measureSpeed(const LlamaConfig& config, const LlamaWeights& weights,
                         const SpeedOptions& options);

}  // namespace cwb
