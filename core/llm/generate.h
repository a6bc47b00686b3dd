// Greedy generation: the prompt in one batched call, then one token per call through the KV
// cache, always taking the most likely next token (ties: the lowest id).
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "core/llm/llama_config.h"
#include "core/llm/llama_weights.h"

namespace cwb {

class Backend;

struct GenerateOptions {
    int maxTokens = 64;          // tokens to generate at most
    int threads = 0;             // 0 = all cores
    Backend* backend = nullptr;  // where the forward pass runs; null: the CPU
    // Tokens that end the text when they come (not kept): usually EOS; llama2.c's run.c
    // stops at BOS.
    std::vector<std::int32_t> stopTokens;
    // Called with each new token as it comes (to print text as it grows).
    std::function<void(std::int32_t)> onToken;
    // Checked before every layer; true stops with cwb::Cancelled.
    std::function<bool()> cancel;
};

struct GenerateResult {
    std::vector<std::int32_t> tokens;  // the generated tokens, the prompt not included
    bool stopped = false;              // a stop token came before maxTokens
    double promptSeconds = 0.0;        // the prompt's batched call
    double generateSeconds = 0.0;      // the one-token calls
};

// Throws cwb::Error for an empty prompt or one that with maxTokens exceeds the model's
// context (config.maxSequence, when known).
GenerateResult generateGreedy(const LlamaConfig& config, const LlamaWeights& weights,
                              std::span<const std::int32_t> prompt, const GenerateOptions& options);

}  // namespace cwb
