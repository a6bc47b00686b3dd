// Every setting's one name, both ways (see compression_settings.h). Each enum is a table of
// (value, name, short form) (core/util/enum_names.h); formatting, parsing and the refusal
// line all read that table.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "core/compress/compression_settings.h"
#include "core/error.h"
#include "core/util/enum_names.h"

namespace cwb {
namespace {

// "a, b or c"
std::string listOf(const std::vector<std::string>& names) {
    std::string out;
    for (std::size_t i = 0; i < names.size(); ++i) {
        if (i) out += i + 1 == names.size() ? " or " : ", ";
        out += names[i];
    }
    return out;
}

[[noreturn]] void refuse(std::string_view what, std::string_view text,
                         const std::string& expected) {
    throw Error("unknown " + std::string(what) + " '" + std::string(text) + "'; expected " +
                expected);
}

// The value named `text`, or the refusal naming every accepted name.
template <class Table>
auto parseIn(const Table& table, std::string_view text, std::string_view what) {
    decltype(std::begin(table)->value) value{};
    if (!parseName(table, text, value)) refuse(what, text, listOf(namesOf(table)));
    return value;
}

constexpr EnumName<QuantScheme> kSchemes[] = {
    {QuantScheme::Symmetric, "symmetric", "sym"},
    {QuantScheme::Asymmetric, "asymmetric", "asym"},
};

constexpr EnumName<PruneMethod> kPruneMethods[] = {
    {PruneMethod::None, "none", ""},
    {PruneMethod::Threshold, "threshold", ""},
    {PruneMethod::TextbookThreshold, "textbook", ""},
    {PruneMethod::TargetSparsity, "sparsity", ""},
    {PruneMethod::StructuredL1, "l1", "structured-l1"},
    {PruneMethod::StructuredL2, "l2", "structured-l2"},
    {PruneMethod::NM, "nm", ""},
};

constexpr EnumName<SparsityScope> kScopes[] = {
    {SparsityScope::PerLayer, "layer", "per-layer"},
    {SparsityScope::Global, "global", ""},
};

constexpr EnumName<KernelChoice> kKernels[] = {
    {KernelChoice::Auto, "auto", ""},
    {KernelChoice::Float, "float", ""},
    {KernelChoice::Int8, "int8", ""},
    {KernelChoice::Sparse, "sparse", ""},
};

constexpr int kGroupSizes[] = {32, 64, 128};

constexpr EnumName<LlmScope> kLlmScopes[] = {
    {LlmScope::Blocks, "blocks", ""},
    {LlmScope::All, "all", ""},
};

// From the most bits to the fewest, as llama-quantize lists them.
constexpr std::string_view kLlmFormats[] = {"Q8_0", "Q6_K", "Q5_1", "Q5_0", "Q5_K",
                                            "Q4_1", "Q4_0", "Q4_K", "Q3_K", "Q2_K"};

}  // namespace

std::string granularityName(Granularity g, int groupSize) {
    switch (g) {
        case Granularity::Tensor:
            return "tensor";
        case Granularity::Channel:
            return "channel";
        case Granularity::Group:
            return "group" + std::to_string(groupSize);
    }
    return "?";
}

std::vector<std::string> granularityNames() {
    std::vector<std::string> out{granularityName(Granularity::Tensor, 0),
                                 granularityName(Granularity::Channel, 0)};
    for (int size : kGroupSizes) out.push_back(granularityName(Granularity::Group, size));
    return out;
}

Granularity parseGranularity(std::string_view text, int* groupSize) {
    if (text == "tensor") return Granularity::Tensor;
    if (text == "channel") return Granularity::Channel;
    for (int size : kGroupSizes)
        if (text == granularityName(Granularity::Group, size)) {
            if (groupSize) *groupSize = size;
            return Granularity::Group;
        }
    refuse("granularity", text, listOf(granularityNames()));
}

std::string schemeName(QuantScheme s) { return nameOf(kSchemes, s); }
QuantScheme parseScheme(std::string_view text) { return parseIn(kSchemes, text, "scheme"); }
std::vector<std::string> schemeNames() { return namesOf(kSchemes); }

std::string clipName(ClipMethod c, double percentile) {
    switch (c) {
        case ClipMethod::None:
            return "none";
        case ClipMethod::Mse:
            return "mse";
        case ClipMethod::Percentile: {
            char buf[40];
            std::snprintf(buf, sizeof buf, "p%g", percentile);
            return buf;
        }
    }
    return "?";
}

ClipMethod parseClip(std::string_view text, double* percentile) {
    if (text == "none") return ClipMethod::None;
    if (text == "mse") return ClipMethod::Mse;
    if (text.size() > 1 && text[0] == 'p') {
        const std::string number(text.substr(1));
        char* end = nullptr;
        const double v = std::strtod(number.c_str(), &end);
        if (*end == '\0' && v > 0.0 && v <= 100.0) {
            if (percentile) *percentile = v;
            return ClipMethod::Percentile;
        }
    }
    refuse("clip", text, "none, mse or pPCT such as p99.9 (PCT in (0, 100])");
}

std::string pruneMethodName(PruneMethod m) { return nameOf(kPruneMethods, m); }
PruneMethod parsePruneMethod(std::string_view text) {
    return parseIn(kPruneMethods, text, "pruning method");
}
std::vector<std::string> pruneMethodNames() { return namesOf(kPruneMethods); }

std::string sparsityScopeName(SparsityScope s) { return nameOf(kScopes, s); }
SparsityScope parseSparsityScope(std::string_view text) {
    return parseIn(kScopes, text, "sparsity scope");
}

std::string kernelChoiceName(KernelChoice choice) { return nameOf(kKernels, choice); }
KernelChoice parseKernelChoice(std::string_view text) {
    return parseIn(kKernels, text, "kernel choice");
}
std::vector<std::string> kernelChoiceNames() { return namesOf(kKernels); }

bool parseKernelChoice(const std::string& text, KernelChoice& out) {
    return parseName(kKernels, text, out);
}

std::string llmScopeName(LlmScope s) { return nameOf(kLlmScopes, s); }
LlmScope parseLlmScope(std::string_view text) { return parseIn(kLlmScopes, text, "scope"); }
std::vector<std::string> llmScopeNames() { return namesOf(kLlmScopes); }

std::vector<std::string> llmFormatNames() {
    return {std::begin(kLlmFormats), std::end(kLlmFormats)};
}

bool isLlmFormatName(std::string_view name) {
    return std::find(std::begin(kLlmFormats), std::end(kLlmFormats), name) != std::end(kLlmFormats);
}

}  // namespace cwb
