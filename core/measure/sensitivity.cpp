// Per-layer sensitivity: evaluate the model with one layer compressed at a time.
#include "core/measure/sensitivity.h"

#include <algorithm>

namespace cwb {

SensitivityResult layerSensitivity(const Measurer& measurer, const CompressionPlan& plan,
                                   const SensitivityOptions& options, const Progress& progress) {
    const Model& model = measurer.model();
    std::vector<int> layers;
    for (std::size_t i = 0; i < model.layers.size(); ++i)
        if (settingsForLayer(plan, model, static_cast<int>(i)))
            layers.push_back(static_cast<int>(i));
    const long long perRun = measurer.samplesFor(options.limit);
    const long long total = perRun * (static_cast<long long>(layers.size()) + 2);
    long long runs = 0;
    // The progress of the next evaluation, counted over all of them.
    auto next = [&] {
        Progress p;
        const long long before = perRun * runs++;
        if (progress.callback)
            p.callback = [&progress, before, total](long long done, long long) {
                return progress.callback(before + done, total);
            };
        return p;
    };
    // Only sparsity is reported per layer: skip counting the levels of float32 layers.
    constexpr bool kExactLevels = false;

    SensitivityResult result;
    const Accuracy base = measurer.accuracy(model, {}, options.limit, next());
    result.baseline = base.fraction();
    result.samples = base.samples;
    result.allCompressed =
        measurer.measure(plan, KernelChoice::Float, options.limit, next(), kExactLevels)
            .accuracy.fraction();
    for (int li : layers) {
        CompressionPlan single = plan;
        single.onlyLayer = model.layers[li].name;
        single.keepFirstFloat = single.keepLastFloat = false;
        const Measurement m =
            measurer.measure(single, KernelChoice::Float, options.limit, next(), kExactLevels);
        SensitivityRow row;
        row.layerIndex = li;
        row.name = model.layers[li].name;
        row.accuracy = m.accuracy.fraction();
        row.drop = result.baseline - row.accuracy;
        for (const auto& ls : m.layers)
            if (ls.layerIndex == li) row.sparsity = ls.kernel.sparsity;
        result.rows.push_back(row);
    }
    progress.step(total, total);
    std::stable_sort(
        result.rows.begin(), result.rows.end(),
        [](const SensitivityRow& a, const SensitivityRow& b) { return a.accuracy < b.accuracy; });
    return result;
}

}  // namespace cwb
