// Which layers hurt accuracy most: for every compressible layer, the accuracy when only
// that layer is compressed at the current settings, as a table sorted most sensitive first.
#pragma once

#include <string>
#include <vector>

#include "core/compress/compression_settings.h"
#include "core/io/idx_dataset.h"
#include "core/model/model.h"
#include "core/util/progress.h"

namespace cwb {

struct SensitivityOptions {
    int limit = 0;  // 0 = whole data set, else its first `limit` samples
    int threads = 0;
    Progress progress;  // (evaluations done, evaluations total)
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

SensitivityResult layerSensitivity(const Model& model, const CompressionPlan& plan,
                                   const Dataset& data, const SensitivityOptions& options = {});

}  // namespace cwb
