// The weights of Keras layers, shared by the Keras readers: the roles each layer has and
// their names in files, assignment with checks (role, duplicates, NaN/Inf), the trip out of a
// reading child process (harvest.h), and the finished, shape-checked Model.
#pragma once

#include <string>
#include <vector>

#include "core/io/harvest.h"
#include "core/io/keras_config.h"

namespace cwb {

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
