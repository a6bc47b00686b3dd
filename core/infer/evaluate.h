// Accuracy and wall time of an engine on a labelled data set.
#pragma once

#include <vector>

#include "core/infer/engine.h"
#include "core/io/idx_dataset.h"
#include "core/util/progress.h"

namespace cwb {

struct EvalOptions {
    int first = 0;  // the first sample evaluated (a later part of the data set)
    int limit = 0;  // 0 = every sample from `first` on, else at most `limit` of them
    int batchSize = 512;
    Progress progress;  // called after every batch with (samples done, total)
};

struct EvalResult {
    int samples = 0;
    int correct = 0;
    double accuracy = 0.0;  // a fraction
    double seconds = 0.0;   // wall time of the forward passes
    std::vector<int> predictions;
};

EvalResult evaluate(InferenceEngine& engine, const Dataset& data, const EvalOptions& options = {});

}  // namespace cwb
