// Parsing of the compression options (see compression_options.h).
#include "app/cwb/compression_options.h"

#include <cmath>
#include <cstdlib>
#include <sstream>
#include <string_view>

#include "core/error.h"

namespace cwb::cli {
namespace {

[[noreturn]] void bad(const std::string& option, const std::string& value,
                      const std::string& expected) {
    throw Error("option --" + option + " got '" + value + "'; expected " + expected);
}

double numberIn(const Args& args, const std::string& option, double lo, double hi,
                const std::string& expected) {
    const double v = args.number(option, lo);
    if (!(v >= lo && v <= hi)) bad(option, args.text(option), expected);
    return v;
}

// The option's value (or `fallback`) through one of the core's name parsers; a refusal
// names the option.
template <class Parse>
auto named(const Args& args, const std::string& option, const std::string& fallback, Parse parse) {
    try {
        return parse(args.text(option, fallback));
    } catch (const Error& e) {
        throw Error("option --" + option + ": " + e.what());
    }
}

}  // namespace

const std::vector<std::string>& compressionOptionNames() {
    static const std::vector<std::string> names{"alpha",  "rho",  "bits",     "granularity",
                                                "scheme", "clip", "sparsity", "sparsity-scope",
                                                "prune",  "nm",   "only",     "keep"};
    return names;
}

const std::vector<std::string>& compressionFlagNames() {
    static const std::vector<std::string> flags{"textbook", "keep-first", "keep-last",
                                                "include-biases", "include-bn"};
    return flags;
}

std::string compressionUsage() {
    return "[--alpha A] [--rho R] [--textbook] [--bits K --granularity "
           "tensor|channel|group32|group64|group128 "
           "--scheme sym|asym --clip none|mse|pPCT] [--sparsity S --sparsity-scope layer|global] "
           "[--prune threshold|sparsity|l1|l2|nm] [--nm N:M] [--only LAYER] [--keep L1,L2] "
           "[--keep-first] "
           "[--keep-last] [--include-biases] [--include-bn]";
}

std::vector<std::string> withCompressionOptions(std::vector<std::string> known) {
    for (const auto& n : compressionOptionNames()) known.push_back(n);
    for (const auto& n : compressionFlagNames()) known.push_back(n);
    return known;
}

bool anyCompressionOption(const Args& args) {
    for (const auto& n : compressionOptionNames())
        if (args.has(n)) return true;
    for (const auto& n : compressionFlagNames())
        if (args.has(n)) return true;
    return false;
}

CompressionPlan parseCompressionPlan(const Args& args) {
    CompressionPlan plan;
    QuantSettings& q = plan.defaults.quant;
    PruneSettings& p = plan.defaults.prune;
    q.alpha = static_cast<float>(numberIn(args, "alpha", 0.0, 1e30, "a step >= 0 (0 = off)"));
    p.rho = static_cast<float>(args.number("rho", 0.0));
    if (!std::isfinite(p.rho)) bad("rho", args.text("rho"), "a finite threshold");
    if (args.has("bits")) {
        q.bits = args.integer("bits", 0);
        if (q.bits < 2 || q.bits > 8) bad("bits", args.text("bits"), "2..8");
        q.alpha = 0.f;
        if (args.has("alpha"))
            throw Error(
                "give either --alpha (a fixed step) or --bits (a step from the range), not both");
    }
    q.granularity = named(args, "granularity", "tensor",
                          [&](std::string_view t) { return parseGranularity(t, &q.groupSize); });
    q.scheme = named(args, "scheme", "sym", parseScheme);
    q.clip = named(args, "clip", "none",
                   [&](std::string_view t) { return parseClip(t, &q.clipPercentile); });

    // Pruning: the method follows from the options unless --prune names it.
    p.method = PruneMethod::Threshold;
    if (args.has("sparsity")) {
        p.sparsity = numberIn(args, "sparsity", 0.0, 1.0, "a fraction in [0, 1]");
        p.method = PruneMethod::TargetSparsity;
    }
    if (args.has("nm")) {
        const std::string nm = args.text("nm");
        const auto colon = nm.find(':');
        char* end = nullptr;
        p.n = static_cast<int>(std::strtol(nm.c_str(), &end, 10));
        if (colon == std::string::npos || end != nm.c_str() + colon)
            bad("nm", nm, "N:M such as 2:4");
        p.m = static_cast<int>(std::strtol(nm.c_str() + colon + 1, &end, 10));
        if (*end != '\0') bad("nm", nm, "N:M such as 2:4");
        p.method = PruneMethod::NM;
    }
    if (args.has("textbook")) p.method = PruneMethod::TextbookThreshold;
    if (args.has("prune")) p.method = named(args, "prune", "", parsePruneMethod);
    p.scope = named(args, "sparsity-scope", "layer", parseSparsityScope);

    plan.onlyLayer = args.text("only");
    std::stringstream keep(args.text("keep"));
    for (std::string name; std::getline(keep, name, ',');)
        if (!name.empty()) plan.overrides.push_back({name, true, std::nullopt});
    plan.keepFirstFloat = args.has("keep-first");
    plan.keepLastFloat = args.has("keep-last");
    plan.includeBiases = args.has("include-biases");
    plan.includeBatchNorm = args.has("include-bn");
    return plan;
}

}  // namespace cwb::cli
