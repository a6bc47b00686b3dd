// What the worker lanes share once a model is open: the model, its settings-independent
// weight profile, the test data, the backend its jobs run on and the core's Measurer over
// them (every accuracy, sweep and sensitivity goes through it). Immutable after loading, so every
// lane can read it without locks; a new model makes a new Session.
#pragma once

#include <QString>
#include <memory>

#include "core/compress/compress_model.h"
#include "core/io/idx_dataset.h"
#include "core/measure/measurer.h"
#include "core/model/model.h"

namespace cwb {
class Backend;
}

namespace cwb::ui {

struct Session {
    QString path;
    std::shared_ptr<const Model> model;
    std::shared_ptr<const WeightProfile> profile;
    StatsOptions stats;  // the options the profile was made with
    // The test split; null when the data set is missing (then `dataMessage` says how to
    // install it).
    std::shared_ptr<const Dataset> testData;
    QString dataMessage;
    // Runs the compressions and engines of this session (the Device box's choice through
    // chooseBackend); never null once loaded.
    Backend* backend = nullptr;
    // Measures this model on testData on `backend`; null without test data.
    std::shared_ptr<const Measurer> measurer;
    double loadSeconds = 0.0;

    bool canEvaluate() const {
        return model && model->evaluable && measurer && testData->size() > 0;
    }
};

}  // namespace cwb::ui
