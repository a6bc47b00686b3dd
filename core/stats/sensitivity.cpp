// Per-layer sensitivity: evaluate the model with one layer compressed at a time.
#include "core/stats/sensitivity.h"

#include <algorithm>

#include "core/compress/compress_model.h"
#include "core/infer/engine.h"
#include "core/infer/evaluate.h"

namespace cwb {

SensitivityResult layerSensitivity(const Model& model, const CompressionPlan& plan,
                                   const Dataset& data, const SensitivityOptions& options) {
    std::vector<int> layers;
    for (std::size_t i = 0; i < model.layers.size(); ++i)
        if (settingsForLayer(plan, model, static_cast<int>(i)))
            layers.push_back(static_cast<int>(i));
    const long long total = static_cast<long long>(layers.size()) + 2;
    long long done = 0;
    EngineOptions engineOptions;
    engineOptions.threads = options.threads;
    EvalOptions evalOptions;
    evalOptions.limit = options.limit;
    auto accuracyOf = [&](const Model& m) {
        options.progress.step(done, total);
        auto engine = makeCpuEngine(m, engineOptions);
        const auto r = evaluate(*engine, data, evalOptions);
        ++done;
        return r;
    };
    SensitivityResult result;
    const auto base = accuracyOf(model);
    result.baseline = base.accuracy;
    result.samples = base.samples;
    CompressOptions compressOptions;
    compressOptions.threads = options.threads;
    compressOptions.stats.histograms = false;
    compressOptions.stats.exactLevels = false;
    result.allCompressed = accuracyOf(compressModel(model, plan, compressOptions).model).accuracy;
    for (int li : layers) {
        CompressionPlan single = plan;
        single.onlyLayer = model.layers[li].name;
        single.keepFirstFloat = single.keepLastFloat = false;
        const auto compressed = compressModel(model, single, compressOptions);
        SensitivityRow row;
        row.layerIndex = li;
        row.name = model.layers[li].name;
        row.accuracy = accuracyOf(compressed.model).accuracy;
        row.drop = result.baseline - row.accuracy;
        for (const auto& ls : compressed.layers)
            if (ls.layerIndex == li) row.sparsity = ls.kernel.sparsity;
        result.rows.push_back(row);
    }
    options.progress.step(total, total);
    std::stable_sort(
        result.rows.begin(), result.rows.end(),
        [](const SensitivityRow& a, const SensitivityRow& b) { return a.accuracy < b.accuracy; });
    return result;
}

}  // namespace cwb
