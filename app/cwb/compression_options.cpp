// Parsing of the compression options (see compression_options.h).
#include "app/cwb/compression_options.h"

#include <cmath>
#include <cstdlib>
#include <sstream>

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
    const std::string g = args.text("granularity", "tensor");
    if (g == "tensor")
        q.granularity = Granularity::Tensor;
    else if (g == "channel")
        q.granularity = Granularity::Channel;
    else if (g == "group32" || g == "group64" || g == "group128") {
        q.granularity = Granularity::Group;
        q.groupSize = std::atoi(g.c_str() + 5);
    } else
        bad("granularity", g, "tensor, channel, group32, group64 or group128");
    const std::string scheme = args.text("scheme", "sym");
    if (scheme == "sym")
        q.scheme = QuantScheme::Symmetric;
    else if (scheme == "asym")
        q.scheme = QuantScheme::Asymmetric;
    else
        bad("scheme", scheme, "sym or asym");
    const std::string clip = args.text("clip", "none");
    if (clip == "none")
        q.clip = ClipMethod::None;
    else if (clip == "mse")
        q.clip = ClipMethod::Mse;
    else if (clip.size() > 1 && clip[0] == 'p') {
        char* end = nullptr;
        q.clip = ClipMethod::Percentile;
        q.clipPercentile = std::strtod(clip.c_str() + 1, &end);
        if (*end != '\0' || !(q.clipPercentile > 0 && q.clipPercentile <= 100))
            bad("clip", clip, "none, mse or pPCT such as p99.9");
    } else
        bad("clip", clip, "none, mse or pPCT such as p99.9");

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
    if (args.has("prune")) {
        const std::string m = args.text("prune");
        if (m == "threshold")
            p.method = PruneMethod::Threshold;
        else if (m == "sparsity")
            p.method = PruneMethod::TargetSparsity;
        else if (m == "l1")
            p.method = PruneMethod::StructuredL1;
        else if (m == "l2")
            p.method = PruneMethod::StructuredL2;
        else if (m == "nm")
            p.method = PruneMethod::NM;
        else
            bad("prune", m, "threshold, sparsity, l1, l2 or nm");
    }
    const std::string scope = args.text("sparsity-scope", "layer");
    if (scope == "layer")
        p.scope = SparsityScope::PerLayer;
    else if (scope == "global")
        p.scope = SparsityScope::Global;
    else
        bad("sparsity-scope", scope, "layer or global");

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
