// Small architectures named by a one-word spec, for `cwb train`, students in `cwb distill`
// and the window's student picker:
//   mlp:256,128         Flatten, Dense ReLU per entry, Dense(classes) softmax
//   cnn:32,64/128       per conv entry Conv2D 3x3 same ReLU + MaxPooling2D 2x2, Flatten,
//                       Dense ReLU per entry after '/', Dense(classes) softmax
//   cnn-bn:32,64/128    as cnn, with Conv2D (no bias) -> BatchNormalization -> ReLU
// Layers are named and laid out as Keras names them (dense, dense_1, conv2d, ...), so
// the result saves as an ordinary Keras model.
#pragma once

#include <cstdint>
#include <string>

#include "core/model/model.h"

namespace cwb::train {

struct ArchOptions {
    Shape inputShape;  // empty: (28, 28) for mlp, (28, 28, 1) for cnn
    int classes = 10;
    float dropout = 0.f;     // a Dropout layer after every hidden Dense when > 0
    std::uint64_t seed = 1;  // initial weights
};

// Builds the model with freshly initialised weights. Throws cwb::Error with one line
// saying what is wrong with the spec and what a valid one looks like.
Model buildModel(const std::string& spec, const ArchOptions& options = {});

// Re-draws every Dense/Conv2D kernel with Keras's default (Glorot uniform) from `seed`,
// zeroes biases and resets BatchNormalization to gamma 1, beta 0, mean 0, variance 1.
void initializeWeights(Model& model, std::uint64_t seed);

}  // namespace cwb::train
