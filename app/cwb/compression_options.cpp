// Parsing of the compression options (see compression_options.h).
#include "app/cwb/compression_options.h"

#include <CLI/CLI.hpp>
#include <cmath>
#include <cstdlib>
#include <sstream>
#include <string_view>

#include "app/cwb/typed_options.h"
#include "core/error.h"

namespace cwb::cli {
namespace {

[[noreturn]] void bad(const std::string& option, const std::string& value,
                      const std::string& expected) {
    throw Error("option --" + option + " got '" + value + "'; expected " + expected);
}

// "a, b or c".
std::string listOf(const std::vector<std::string>& names) {
    std::string text;
    for (std::size_t i = 0; i < names.size(); ++i)
        text += (i == 0 ? "" : i + 1 == names.size() ? " or " : ", ") + names[i];
    return text;
}

// The names of the settings are core's (compression_settings.h): its parsers check them.
void checkGranularity(std::string_view t) {
    int groupSize = 0;
    parseGranularity(t, &groupSize);
}
void checkScheme(std::string_view t) { parseScheme(t); }
void checkClip(std::string_view t) {
    double percentile = 0.0;
    parseClip(t, &percentile);
}
void checkPruneMethod(std::string_view t) { parsePruneMethod(t); }
void checkSparsityScope(std::string_view t) { parseSparsityScope(t); }
void checkKernel(std::string_view t) { parseKernelChoice(t); }

}  // namespace

bool CompressionArgs::any() const {
    return alpha || rho || sparsity || bits || granularity || scheme || clip || sparsityScope ||
           prune || nm || only || keep || textbook || keepFirst || keepLast || includeBiases ||
           includeBatchNorm;
}

void addCompressionOptions(CLI::App& app, CompressionArgs& a) {
    const std::string group = "Compression options";
    const auto word = [&](const char* name, std::optional<std::string>& target,
                          const char* typeName, void (*check)(std::string_view),
                          const std::string& help) {
        CLI::Option* option = app.add_option(name, target, help)->type_name(typeName);
        if (check) option->check(parsedBy(check));
        option->group(group);
    };
    const auto flag = [&](const char* name, bool& target, const char* help) {
        app.add_flag(name, target, help)->group(group);
    };
    addNumber(app, "--alpha", a.alpha, Interval::rightOpen(0, INFINITY),
              "quantization step (0 = off)")
        ->group(group);
    addNumber(app, "--rho", a.rho, Interval::open(-INFINITY, INFINITY),
              "pruning threshold: |w| < rho becomes 0")
        ->group(group);
    flag("--textbook", a.textbook, "prune by the textbook rule: keep w >= rho");
    addInteger(app, "--bits", a.bits, 2, 8,
               "k-bit codes, the step from the range (not with --alpha)")
        ->group(group);
    word("--granularity", a.granularity, "G", checkGranularity,
         "one step per " + listOf(granularityNames()) + " (default tensor)");
    word("--scheme", a.scheme, "S", checkScheme,
         "codes: " + listOf(schemeNames()) + " (default symmetric)");
    word("--clip", a.clip, "C", checkClip,
         "range clipping for --bits: none, mse or pPCT such as p99.9");
    addNumber(app, "--sparsity", a.sparsity, Interval::closed(0, 1),
              "prune to this fraction of zeros")
        ->group(group);
    word("--sparsity-scope", a.sparsityScope, "S", checkSparsityScope,
         "layer or global (default layer)");
    word("--prune", a.prune, "M", checkPruneMethod,
         listOf(pruneMethodNames()) + " (default: from the options)");
    word("--nm", a.nm, "N:M", nullptr, "N:M structured sparsity such as 2:4");
    word("--only", a.only, "LAYER", nullptr, "compress this layer only");
    word("--keep", a.keep, "L1,L2", nullptr, "keep these layers float32 (comma-separated)");
    flag("--keep-first", a.keepFirst, "keep the first layer float32");
    flag("--keep-last", a.keepLast, "keep the last layer float32");
    flag("--include-biases", a.includeBiases, "compress biases too");
    flag("--include-bn", a.includeBatchNorm, "compress BatchNormalization too");
}

CLI::Option* addKernelOption(CLI::App& app, std::optional<std::string>& kernel) {
    return app
        .add_option("--kernel", kernel,
                    "kernels of the compressed model: " + listOf(kernelChoiceNames()) +
                        " (auto: the fastest measured per layer)")
        ->type_name("K")
        ->check(parsedBy(checkKernel));
}

KernelChoice kernelChoice(const std::optional<std::string>& kernel, KernelChoice fallback) {
    return kernel ? parseKernelChoice(*kernel) : fallback;
}

CompressionPlan parseCompressionPlan(const CompressionArgs& args) {
    CompressionPlan plan;
    QuantSettings& q = plan.defaults.quant;
    PruneSettings& p = plan.defaults.prune;
    // The ranges of the numbers are checked while parsing (addCompressionOptions).
    q.alpha = static_cast<float>(args.alpha.value_or(0.0));
    p.rho = static_cast<float>(args.rho.value_or(0.0));
    if (args.bits) {
        q.bits = *args.bits;
        q.alpha = 0.f;
        if (args.alpha)
            throw Error(
                "give either --alpha (a fixed step) or --bits (a step from the range), not both");
    }
    // The names were checked while parsing (addCompressionOptions).
    q.granularity = parseGranularity(args.granularity.value_or("tensor"), &q.groupSize);
    q.scheme = parseScheme(args.scheme.value_or("sym"));
    q.clip = parseClip(args.clip.value_or("none"), &q.clipPercentile);

    // Pruning: the method follows from the options unless --prune names it.
    p.method = PruneMethod::Threshold;
    if (args.sparsity) {
        p.sparsity = *args.sparsity;
        p.method = PruneMethod::TargetSparsity;
    }
    if (args.nm) {
        const std::string nm = *args.nm;
        const auto colon = nm.find(':');
        char* end = nullptr;
        p.n = static_cast<int>(std::strtol(nm.c_str(), &end, 10));
        if (colon == std::string::npos || end != nm.c_str() + colon)
            bad("nm", nm, "N:M such as 2:4");
        p.m = static_cast<int>(std::strtol(nm.c_str() + colon + 1, &end, 10));
        if (*end != '\0') bad("nm", nm, "N:M such as 2:4");
        p.method = PruneMethod::NM;
    }
    if (args.textbook) p.method = PruneMethod::TextbookThreshold;
    if (args.prune) p.method = parsePruneMethod(*args.prune);
    p.scope = parseSparsityScope(args.sparsityScope.value_or("layer"));

    plan.onlyLayer = args.only.value_or("");
    std::stringstream keep(args.keep.value_or(""));
    for (std::string name; std::getline(keep, name, ',');)
        if (!name.empty()) plan.overrides.push_back({name, true, std::nullopt});
    plan.keepFirstFloat = args.keepFirst;
    plan.keepLastFloat = args.keepLast;
    plan.includeBiases = args.includeBiases;
    plan.includeBatchNorm = args.includeBatchNorm;
    return plan;
}

}  // namespace cwb::cli
