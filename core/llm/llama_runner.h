// What perplexity, generation and the speed test run a Llama model on: a forward pass with a
// KV cache, on whichever device a backend built it for (core/backend/backend.h:
// Backend::makeLlamaRunner). The CPU's is LlamaForward; the CUDA backend's keeps the weights
// on the GPU in their block formats. Every runner gives the same logits to float32 rounding.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "core/llm/llama_config.h"

namespace cwb {

class LlamaRunner {
public:
    virtual ~LlamaRunner() = default;

    virtual const LlamaConfig& config() const = 0;
    // "cpu" or "cuda:0".
    virtual std::string device() const = 0;
    virtual int position() const = 0;  // tokens held in the KV cache
    virtual int capacity() const = 0;
    virtual void reset() = 0;
    // Bytes/s at which a large buffer is read where this runner keeps its weights (the speed
    // test compares generation's weight reads with it).
    virtual double readBandwidth() const = 0;

    // Runs `tokens` at positions position() ... position() + size - 1 and keeps their keys and
    // values. Writes the logits of the call's tokens [logitsFrom, logitsTo) to `logits`, row
    // after row ((logitsTo - logitsFrom) x vocab). Throws cwb::Error for a token id outside the
    // vocabulary or a cache overflow (nothing is appended then), Cancelled when asked to stop.
    virtual void forward(std::span<const std::int32_t> tokens, int logitsFrom, int logitsTo,
                         std::vector<float>& logits) = 0;

    // The logits of the last token only (generation).
    void forwardLast(std::span<const std::int32_t> tokens, std::vector<float>& logits) {
        const int n = static_cast<int>(tokens.size());
        forward(tokens, n - 1, n, logits);
    }
};

}  // namespace cwb
