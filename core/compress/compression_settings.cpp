// Plan resolution and validation (see compression_settings.h); the names are in
// settings_names.cpp.
#include "core/compress/compression_settings.h"

#include <cmath>

#include "core/error.h"
#include "core/model/model.h"

namespace cwb {

bool PruneSettings::enabled() const {
    switch (method) {
        case PruneMethod::None:
            return false;
        case PruneMethod::Threshold:
            return rho > 0.f;
        case PruneMethod::TextbookThreshold:
            return true;
        case PruneMethod::TargetSparsity:
        case PruneMethod::StructuredL1:
        case PruneMethod::StructuredL2:
            return sparsity > 0.0;
        case PruneMethod::NM:
            return n < m;
    }
    return false;
}

void clearBitWidth(QuantSettings& q) {
    const QuantSettings defaults;
    q.bits = 0;
    q.granularity = defaults.granularity;
    q.groupSize = defaults.groupSize;
    q.scheme = defaults.scheme;
    q.clip = defaults.clip;
    q.clipPercentile = defaults.clipPercentile;
}

CompressionPlan CompressionPlan::uniform(float alpha, float rho) {
    CompressionPlan plan;
    plan.defaults.quant.alpha = alpha;
    plan.defaults.prune.method = PruneMethod::Threshold;
    plan.defaults.prune.rho = rho;
    return plan;
}

namespace {

int firstKernelLayer(const Model& model) {
    for (std::size_t i = 0; i < model.layers.size(); ++i)
        if (model.layers[i].hasKernel()) return static_cast<int>(i);
    return -1;
}

int lastKernelLayer(const Model& model) {
    for (std::size_t i = model.layers.size(); i-- > 0;)
        if (model.layers[i].hasKernel()) return static_cast<int>(i);
    return -1;
}

void validateSettings(const LayerSettings& s, const std::string& where) {
    const auto& q = s.quant;
    const auto& p = s.prune;
    auto bad = [&](const std::string& what) { throw Error(where + ": " + what); };
    if (!(q.alpha >= 0.f) || !std::isfinite(q.alpha))
        bad("quantization step alpha must be a finite number >= 0 (0 = off)");
    if (q.bits != 0 && (q.bits < 2 || q.bits > 8))
        bad("bit width " + std::to_string(q.bits) +
            " is out of range; use 2..8 (or 0 for the uniform step alpha)");
    if (q.granularity == Granularity::Group && q.groupSize != 32 && q.groupSize != 64 &&
        q.groupSize != 128)
        bad("group size " + std::to_string(q.groupSize) + " is not supported; use 32, 64 or 128");
    if (q.clip == ClipMethod::Percentile && !(q.clipPercentile > 0.0 && q.clipPercentile <= 100.0))
        bad("clip percentile must be in (0, 100]");
    if (q.clip != ClipMethod::None && q.bits == 0)
        bad("clipping needs a bit width (--bits 2..8); the uniform step alpha has no range to "
            "clip");
    if (q.granularity != Granularity::Tensor && q.bits == 0)
        bad("per-channel or per-group steps need a bit width (--bits 2..8)");
    if (!std::isfinite(p.rho) || (p.rho < 0.f && p.method != PruneMethod::TextbookThreshold))
        bad("pruning threshold rho must be a finite number >= 0");
    if (!(p.sparsity >= 0.0 && p.sparsity <= 1.0)) bad("target sparsity must be in [0, 1]");
    if (p.method == PruneMethod::NM && (p.n < 0 || p.m < 1 || p.n > p.m || p.m > 64))
        bad("N:M pruning needs 0 <= N <= M <= 64, e.g. 2:4");
}

}  // namespace

std::optional<LayerSettings> settingsForLayer(const CompressionPlan& plan, const Model& model,
                                              int layerIndex) {
    if (layerIndex < 0 || layerIndex >= static_cast<int>(model.layers.size())) return std::nullopt;
    const Layer& layer = model.layers[layerIndex];
    if (!layer.hasKernel()) return std::nullopt;
    if (!plan.onlyLayer.empty() && plan.onlyLayer != layer.name) return std::nullopt;
    if (plan.keepFirstFloat && layerIndex == firstKernelLayer(model)) return std::nullopt;
    if (plan.keepLastFloat && layerIndex == lastKernelLayer(model)) return std::nullopt;
    const LayerOverride* found = nullptr;
    for (const auto& o : plan.overrides)
        if (o.layer == layer.name) found = &o;
    if (found) {
        if (found->keepFloat) return std::nullopt;
        if (found->settings) return *found->settings;
    }
    return plan.defaults;
}

void validatePlan(const CompressionPlan& plan, const Model& model) {
    validateSettings(plan.defaults, "compression settings");
    if (!plan.onlyLayer.empty()) {
        const int i = model.findLayer(plan.onlyLayer);
        if (i < 0)
            throw Error("layer '" + plan.onlyLayer + "' is not in " + model.sourcePath +
                        "; see `cwb info` for the names");
        if (!model.layers[i].hasKernel())
            throw Error("layer '" + plan.onlyLayer +
                        "' has no kernel to compress; pick a Dense or Conv2D layer");
    }
    for (const auto& o : plan.overrides) {
        if (model.findLayer(o.layer) < 0)
            throw Error("override names layer '" + o.layer + "', which is not in " +
                        model.sourcePath);
        if (o.settings) validateSettings(*o.settings, "settings for layer '" + o.layer + "'");
    }
}

}  // namespace cwb
