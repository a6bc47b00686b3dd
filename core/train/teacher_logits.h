// A teacher's logits (its outputs before the final softmax) over a whole data set, computed
// once with the inference engine and cached by the caller: distillation then costs the
// student's training only, and a temperature change needs no new teacher pass.
#pragma once

#include <vector>

#include "core/infer/engine.h"
#include "core/io/idx_dataset.h"
#include "core/util/progress.h"

namespace cwb::train {

// engine.outputSize() floats per sample for the first `limit` samples (0 = all), in order.
// Progress is (samples done, samples) after every batch. Throws cwb::Error when the engine
// does not take the data set's images.
std::vector<float> computeLogits(InferenceEngine& engine, const Dataset& data,
                                 const Progress& progress = {}, int limit = 0, int batchSize = 256);

// The float32 CPU engine with EngineOptions::logits over the data set. Throws cwb::Error
// naming the teacher when it cannot run or has other than data.classes outputs.
std::vector<float> teacherLogits(const Model& teacher, const Dataset& data, int threads = 0,
                                 const Progress& progress = {}, int limit = 0);

}  // namespace cwb::train
