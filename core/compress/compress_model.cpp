// compressModel: first, simple version (uniform step and threshold pruning).
#include "core/compress/compress_model.h"

#include <chrono>
#include <cmath>
#include <set>

#include "core/compress/quantize.h"
#include "core/error.h"

namespace cwb {

class WeightProfile {};

std::shared_ptr<const WeightProfile> profileWeights(const Model&, const StatsOptions&, int, const Progress&) {
    return std::make_shared<WeightProfile>();
}

CompressionResult compressModel(const Model& model, const CompressionPlan& plan,
                                const CompressOptions& options, const Progress& progress) {
    const auto start = std::chrono::steady_clock::now();
    validatePlan(plan, model);
    CompressionResult result;
    result.model = model;
    result.grids.resize(model.layers.size());
    for (std::size_t li = 0; li < model.layers.size(); ++li) {
        progress.step(static_cast<long long>(li), static_cast<long long>(model.layers.size()));
        Layer& layer = result.model.layers[li];
        if (!layer.hasKernel()) continue;
        LayerStats ls;
        ls.layerIndex = static_cast<int>(li);
        ls.name = layer.name;
        ls.className = layer.className;
        const auto settings = settingsForLayer(plan, model, static_cast<int>(li));
        const auto original = model.layers[li].kernel.toFloatVector();
        if (settings) {
            if (settings->quant.bits != 0 || (settings->prune.method != PruneMethod::Threshold &&
                                              settings->prune.method != PruneMethod::None))
                throw Error("compression settings beyond alpha/rho are not implemented yet");
            ls.compressed = true;
            ls.settings = *settings;
            std::vector<float> w = original;
            for (float& v : w) {
                if (settings->prune.method == PruneMethod::Threshold && !keptByThreshold(v, settings->prune.rho)) v = 0.f;
                else v = quantizeUniform(v, settings->quant.alpha);
            }
            layer.kernel = Tensor::fromFloats(layer.kernel.shape(), std::move(w));
        }
        const auto compressed = layer.kernel.toFloatVector();
        TensorStats& ts = ls.kernel;
        ts.role = "kernel";
        ts.elements = static_cast<std::int64_t>(original.size());
        std::set<float> distinct;
        for (std::size_t i = 0; i < original.size(); ++i) {
            const double e = static_cast<double>(compressed[i]) - original[i];
            ts.zeros += compressed[i] == 0.f;
            ts.originalZeros += original[i] == 0.f;
            ts.sumSquares += static_cast<double>(original[i]) * original[i];
            ts.sumSquaredError += e * e;
            ts.maxAbsError = std::max(ts.maxAbsError, std::fabs(e));
            distinct.insert(compressed[i] == 0.f ? 0.f : compressed[i]);
        }
        ts.sparsity = ts.elements ? static_cast<double>(ts.zeros) / ts.elements : 0.0;
        ts.mse = ts.elements ? ts.sumSquaredError / ts.elements : 0.0;
        ts.sqnrDb = 10.0 * std::log10(ts.sumSquares / ts.sumSquaredError);
        ts.levels = static_cast<std::int64_t>(distinct.size());
        ts.effectiveBits = effectiveBits(ts.levels);
        result.layers.push_back(std::move(ls));
    }
    result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return result;
}

}  // namespace cwb
