// Saving a model as a Keras-2-style full-model .h5 (tf.keras layout: model_config, and
// /model_weights with layer_names and per-layer weight_names), which loadModel and
// tf.keras's load_model both read. Used for compressed exports and trained models.
#pragma once

#include <string>

#include "core/model/model.h"

namespace cwb {

// Keras version and backend recorded in files we write.
inline constexpr const char* kWrittenKerasVersion = "2.13.1";

// Writes `model` to `path` atomically (temporary file + rename; an existing file is
// replaced only on success). Weights are stored as float32. Throws cwb::Error when the
// model is weights-only, has missing or non-finite weights, or when `path` is the model's
// own source file.
void saveKerasH5(const Model& model, const std::string& path);

}  // namespace cwb
