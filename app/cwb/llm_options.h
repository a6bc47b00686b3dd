// What the language-model commands (`cwb ppl`, `generate`, `bench`) share: the checkpoint
// argument, the compression to apply (--alpha/--rho, or --format with --scope), and the
// files the project ships (the default evaluation text).
#pragma once

#include <CLI/CLI.hpp>
#include <string>

#include "core/llm/llama_weights.h"
#include "core/llm/llm_compress.h"

namespace cwb::cli {

struct LlmCompressionArgs {
    double alpha = 0.0, rho = 0.0;
    std::string format;  // "Q4_K" ... ; empty: none
    std::string scope = "blocks";
    bool any() const { return alpha > 0 || rho > 0 || !format.empty(); }
};

// Declares --alpha, --rho, --format and --scope on `app`.
void addLlmCompressionOptions(CLI::App& app, LlmCompressionArgs& args);
// --scope blocks|all, for --format (ppl, generate, bench and quantize).
void addScopeOption(CLI::App& app, std::string& scope);
// The core's description of what the options ask for; UsageError for a bad combination.
LlmCompression llmCompression(const LlmCompressionArgs& args);
// "alpha 0.02, rho 0.01", "Q4_K on the block matrices", "as stored".
std::string describeCompression(const LlmCompressionArgs& args);

// Declares the positional CHECKPOINT argument (required).
void addCheckpointArgument(CLI::App& app, std::string& path);

// The checkpoint's weights with the compression applied (the stored ones when none is asked);
// a block format is quantized on `backend` (null: the CPU).
LlamaWeights compressedWeights(const LlamaCheckpoint& checkpoint, const LlmCompressionArgs& args,
                               int threads, Backend* backend);

// Opens the checkpoint, printing one line of what it is to stderr.
LlamaCheckpoint openCheckpointVerbose(const std::string& path);

// A file the project ships under resources/ ("llm/eval_revelation.txt"): found next to the
// executable's build tree, in the source tree or in the installed share folder.
std::string shippedResource(const std::string& relative);

}  // namespace cwb::cli
