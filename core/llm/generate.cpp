// Greedy generation; see generate.h.
#include "core/llm/generate.h"

#include <algorithm>
#include <chrono>
#include <string>

#include "core/backend/backend.h"
#include "core/error.h"
#include "core/llm/llama_forward.h"

namespace cwb {

namespace {

using Clock = std::chrono::steady_clock;

double since(Clock::time_point start) {
    return std::chrono::duration<double>(Clock::now() - start).count();
}

std::int32_t mostLikely(const std::vector<float>& logits) {
    return static_cast<std::int32_t>(std::max_element(logits.begin(), logits.end()) -
                                     logits.begin());
}

}  // namespace

GenerateResult generateGreedy(const LlamaConfig& config, const LlamaWeights& weights,
                              std::span<const std::int32_t> prompt,
                              const GenerateOptions& options) {
    if (prompt.empty()) throw Error("generate: the prompt gives no tokens");
    const int maxTokens = std::max(0, options.maxTokens);
    const int needed = static_cast<int>(prompt.size()) + maxTokens;
    if (config.maxSequence > 0 && needed > config.maxSequence)
        throw Error("generate: " + std::to_string(prompt.size()) + " prompt tokens and " +
                    std::to_string(maxTokens) + " new ones exceed the model's context of " +
                    std::to_string(config.maxSequence) + "; ask for fewer tokens");
    const std::unique_ptr<LlamaRunner> model = makeLlamaRunner(
        options.backend, config, weights, {options.threads, needed, options.cancel});

    GenerateResult result;
    std::vector<float> logits;
    auto start = Clock::now();
    model->forwardLast(prompt, logits);
    result.promptSeconds = since(start);
    start = Clock::now();
    for (int i = 0; i < maxTokens; ++i) {
        const std::int32_t next = mostLikely(logits);
        if (std::find(options.stopTokens.begin(), options.stopTokens.end(), next) !=
            options.stopTokens.end()) {
            result.stopped = true;
            break;
        }
        result.tokens.push_back(next);
        if (options.onToken) options.onToken(next);
        if (i + 1 < maxTokens) model->forwardLast(std::span(&next, 1), logits);
    }
    result.generateSeconds = since(start);
    return result;
}

}  // namespace cwb
