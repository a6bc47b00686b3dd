// Keras model configs (the JSON in an .h5's model_config attribute or a .keras file's
// config.json) turned into cwb::Layers, and the checks shared by the Keras readers.
//
// Accepted: Sequential in Keras 2.1 list style and dict style (tf.keras 2, Keras 3), and
// Functional/Model configs that are a plain chain. Layers are those of core/model/layer.h;
// anything else is rejected naming the layer, its class and the file.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/io/harvest.h"
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

// Keras's snake case of a class name, as used for .keras weight paths:
// Conv2D -> conv2d, MaxPooling2D -> max_pooling2d, BatchNormalization -> batch_normalization.
std::string kerasSnakeCase(const std::string& className);

// Names of the weights a layer has, in Keras's order: Dense/Conv2D {kernel, bias?},
// BatchNormalization {gamma?, beta?, moving_mean, moving_variance}; empty for the rest.
std::vector<std::string> kerasWeightRoles(const Layer& layer);

// The layer's weight of that role ("kernel", "moving_mean", ...); an empty tensor when unset.
const Tensor& kerasWeight(const Layer& layer, const std::string& role);

// "<file>: layer 'name' (Class)", the prefix of every per-layer error.
std::string layerWhere(const std::string& file, const Layer& layer);

// Stores `tensor` (converted to float32) as the layer's `role` weight. Throws cwb::Error
// for a role the layer does not have, a duplicate, or NaN/Inf values.
void assignKerasWeight(Layer& layer, const std::string& role, const Tensor& tensor,
                       const std::string& file);

// Adds every weight the layers hold to `harvest`, by layer index and role, for the trip out
// of a reading child process (harvest.h).
void harvestKerasWeights(const KerasArchitecture& architecture, Harvest& harvest);
// Assigns the harvested layer weights back, as assignKerasWeight does.
void assignHarvestedWeights(KerasArchitecture& architecture, const Harvest& harvest,
                            const std::string& file);

// Builds the evaluable Model: checks every expected weight is present, infers shapes and
// checks normalisation axes. Throws cwb::Error naming the layer on any mismatch.
Model finishKerasModel(KerasArchitecture architecture, const std::string& file,
                       const std::string& format);

}  // namespace cwb
