// Keras model configs (the JSON in an .h5's model_config attribute or a .keras file's
// config.json) turned into cwb::Layers without their weights (keras_weights.h fills them).
//
// Accepted: Sequential in Keras 2.1 list style and dict style (tf.keras 2, Keras 3), and
// Functional/Model configs that are a plain chain. Layers are those of core/model/layer.h;
// anything else is rejected naming the layer, its class and the file.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/model/model.h"

namespace cwb {

struct KerasArchitecture {
    Shape inputShape;           // per sample
    std::vector<Layer> layers;  // without the InputLayer; weights still empty
    // BatchNormalization axis as written (-1, or a positive index into the batched shape);
    // checked against the inferred shapes by finishKerasModel. 0 for other layers.
    std::vector<int> normalizationAxes;
};

// Throws cwb::Error "<file>: ..." for unsupported layers, activations or options.
KerasArchitecture parseKerasModelConfig(const nlohmann::json& config, const std::string& file);

}  // namespace cwb
