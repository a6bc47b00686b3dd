// The compression options shared by `cwb eval`, `cwb compress` and `cwb sweep`: their
// declaration on a command, and one parser from what was given to a CompressionPlan.
#pragma once

#include <optional>
#include <string>

#include "core/compress/compression_settings.h"

namespace CLI {
class App;
class Option;
}  // namespace CLI

namespace cwb::cli {

// As given on the command line; empty when not given.
struct CompressionArgs {
    std::optional<double> alpha, rho, sparsity;
    std::optional<int> bits;
    std::optional<std::string> granularity, scheme, clip, sparsityScope, prune, nm, only, keep;
    bool textbook = false, keepFirst = false, keepLast = false, includeBiases = false,
         includeBatchNorm = false;

    // True when any compression option was given.
    bool any() const;
};

// Declares the options on `app` (in a group of their own in --help), bound to `args`.
void addCompressionOptions(CLI::App& app, CompressionArgs& args);

// --kernel auto|float|int8|sparse, checked while parsing.
CLI::Option* addKernelOption(CLI::App& app, std::optional<std::string>& kernel);
// The kernel asked for, else `fallback`.
KernelChoice kernelChoice(const std::optional<std::string>& kernel, KernelChoice fallback);

// The plan the options ask for. Throws cwb::Error naming the option for a bad value.
CompressionPlan parseCompressionPlan(const CompressionArgs& args);

}  // namespace cwb::cli
