// Perplexity by llama.cpp's llama-perplexity protocol, and the KL divergence of a compressed
// model against its original over the same tokens.
//
// The token ids (BOS first, as the tokenizer gives them for the whole text) are cut into
// chunks of `context` tokens; a partial last chunk is dropped. In each chunk the first token
// is replaced by BOS, the model runs on all of it, and only the second half is scored: the
// log-probability of token j + 1 from the logits at j, for j = context/2 ... context - 2.
// Perplexity = exp(mean negative log-likelihood).
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "core/llm/llama_config.h"
#include "core/llm/llama_forward.h"
#include "core/llm/llama_weights.h"

namespace cwb {

class Backend;

// Where a run stands after a chunk, and its final figures. Uncertainties are llama.cpp's:
// the standard error of the mean over the scored tokens.
struct PerplexityStats {
    int chunks = 0;                // chunks done
    int totalChunks = 0;           // chunks the run will do
    long long scored = 0;          // tokens scored so far
    double meanNll = 0.0;          // mean negative log-likelihood (nats)
    double perplexity = 0.0;       // exp(meanNll)
    double perplexityError = 0.0;  // llama.cpp's "±": perplexity * standard error of meanNll
    double low = 0.0, high = 0.0;  // 95 % confidence interval: exp(meanNll -/+ 1.96 error)
    // Against a reference (PerplexityOptions::reference or ::recorded), else 0.
    bool hasKl = false;
    double meanKl = 0.0, klError = 0.0;        // mean KL(reference || model) over the scored tokens
    double sameTop = 0.0, sameTopError = 0.0;  // fraction with the same most likely token
};

// The log-probabilities of a model over every scored token of a run (float32, vocab per
// token: 148 MB for kjv-llama-6m on eval_revelation.txt), recorded once so that many compressed
// variants are compared with the original without running it again.
struct PerplexityReference {
    int context = 0, chunks = 0, vocab = 0;
    std::uint64_t tokensHash = 0;  // of the chunks' tokens: a reference fits one text only
    std::vector<float> logProbs;   // [chunks * (context/2 - 1) scored rows, vocab]
};

struct PerplexityResult {
    PerplexityStats stats;
    double seconds = 0.0;          // wall time of the whole run
    double tokensPerSecond = 0.0;  // tokens run through the model (both models when comparing)
};

struct PerplexityOptions {
    int context = 256;           // n_ctx: tokens per chunk (even, at least 4)
    int threads = 0;             // 0 = all cores (the CPU's forward pass and the scoring)
    Backend* backend = nullptr;  // where the forward passes run; null: the CPU
    int maxChunks = 0;           // 0 = every whole chunk
    int bos = 1;                 // replaces the first token of every chunk
    // When set, the KL divergence and same-top-token rate of the model against this one
    // (the original of a compressed model, with the same config) over the scored tokens.
    const LlamaWeights* reference = nullptr;
    // The same against a recorded run (the same text, context and chunks), instead of running
    // `reference` again.
    const PerplexityReference* recorded = nullptr;
    // When set, this run's log-probabilities are recorded here.
    PerplexityReference* record = nullptr;
    // Called after every chunk with the running figures.
    std::function<void(const PerplexityStats&)> onChunk;
    // Checked before every layer of every chunk; true stops the run with cwb::Cancelled.
    std::function<bool()> cancel;
    // Whether mapped weights stay resident between layers (see llama_forward.h).
    ResidentWeights resident = ResidentWeights::Auto;
};

// Throws cwb::Error when the text is shorter than one chunk, the options are out of range or a
// recorded reference is of another text or settings; cwb::Cancelled when asked to stop.
PerplexityResult measurePerplexity(const LlamaConfig& config, const LlamaWeights& weights,
                                   std::span<const std::int32_t> tokens,
                                   const PerplexityOptions& options);

}  // namespace cwb
