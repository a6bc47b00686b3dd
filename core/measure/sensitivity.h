// Which layers hurt accuracy most: for every compressible layer, the accuracy when only
// that layer is compressed at the current settings, as a table sorted most sensitive first.
// Every figure is measured through a Measurer with the float32 engine (what the weights
// do to accuracy, not which kernel runs them).
#pragma once

#include <string>
#include <vector>

#include "core/measure/measurer.h"

namespace cwb {

struct SensitivityOptions {
    int limit = 0;  // 0 = whole data set, else its first `limit` samples
};

struct SensitivityRow {
    int layerIndex = -1;
    std::string name;
    double accuracy = 0.0;  // only this layer compressed
    double drop = 0.0;      // baseline - accuracy (positive = worse)
    double sparsity = 0.0;  // of this layer's kernel under the settings
};

struct SensitivityResult {
    double baseline = 0.0;       // nothing compressed
    double allCompressed = 0.0;  // the whole plan
    int samples = 0;
    std::vector<SensitivityRow> rows;  // sorted by accuracy ascending (ties: model order)
};

// `progress` gets (samples done, samples total) over every evaluation (baseline, the whole
// plan, then one per layer) and cancels (Cancelled) when it returns false.
SensitivityResult layerSensitivity(const Measurer& measurer, const CompressionPlan& plan,
                                   const SensitivityOptions& options = {},
                                   const Progress& progress = {});

}  // namespace cwb
