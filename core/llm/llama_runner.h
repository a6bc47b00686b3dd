// What perplexity, generation and the speed test run a Llama model on: a forward pass with a
// KV cache, on whichever device a backend built it for (core/backend/backend.h:
// Backend::makeLlamaRunner). The CPU's is LlamaForward; the CUDA backend's keeps the weights
// on the GPU in their block formats. Every runner gives the same logits to float32 rounding.
#pragma once

#include <algorithm>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "core/error.h"
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

    // Runs `sequences` independent sequences of equal length, one after another in `tokens`,
    // each from position 0 in a context of its own, and writes the logits of each one's last
    // token to `logits` (sequences x vocab). The KV cache is left empty (position() 0). This
    // runs them in turn through forward(); the GPU's runner runs them as one batch of products
    // with 16-bit activations (transformers' batched prefill), its logits within that rounding
    // of forward()'s. Throws cwb::Error where tokens are not `sequences` equal parts.
    virtual void prefillBatch(std::span<const std::int32_t> tokens, int sequences,
                              std::vector<float>& logits) {
        const int length = batchLength(tokens.size(), sequences);
        const std::size_t vocab = static_cast<std::size_t>(config().vocabSize);
        std::vector<float> one;
        logits.resize(static_cast<std::size_t>(sequences) * vocab);
        for (int s = 0; s < sequences; ++s) {
            reset();
            forwardLast(tokens.subspan(static_cast<std::size_t>(s) * length, length), one);
            std::copy(one.begin(), one.end(),
                      logits.begin() + static_cast<std::ptrdiff_t>(s * vocab));
        }
        reset();
    }

    // The length of each of `sequences` equal parts of `count` tokens (prefillBatch's check).
    static int batchLength(std::size_t count, int sequences) {
        if (sequences <= 0 || count == 0 || count % static_cast<std::size_t>(sequences) != 0)
            throw Error("Llama batch: " + std::to_string(count) + " tokens are not " +
                        std::to_string(sequences) + " sequences of equal length");
        return static_cast<int>(count / static_cast<std::size_t>(sequences));
    }

    // The logits of the last token only (generation).
    void forwardLast(std::span<const std::int32_t> tokens, std::vector<float>& logits) {
        const int n = static_cast<int>(tokens.size());
        forward(tokens, n - 1, n, logits);
    }
};

}  // namespace cwb
