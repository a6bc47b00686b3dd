// What the worker lanes share once a model is open: the model, its settings-independent
// weight profile, and the test data. Immutable after loading, so every lane can read it
// without locks; a new model makes a new Session.
#pragma once

#include <QString>
#include <memory>
#include <vector>

#include "core/compress/compress_model.h"
#include "core/io/idx_dataset.h"
#include "core/model/model.h"

namespace cwb::ui {

struct Session {
    QString path;
    std::shared_ptr<const Model> model;
    std::shared_ptr<const WeightProfile> profile;
    StatsOptions stats;  // the options the profile was made with
    // The test split, whole and cut into chunks for partial accuracies; null when the data
    // set is missing (then `dataMessage` says how to install it).
    std::shared_ptr<const Dataset> testData;
    std::vector<std::shared_ptr<const Dataset>> testChunks;
    QString dataMessage;
    double loadSeconds = 0.0;

    bool canEvaluate() const {
        return model && model->evaluable && testData && testData->size() > 0;
    }
};

}  // namespace cwb::ui
