// The forward pass done the slow, obvious way: layer after layer in Keras order with the
// naive reference kernels (double accumulation, no BatchNormalization folding, no fused
// epilogues). It is the independent figure that tests hold fast engines to.
#pragma once

#include <vector>

#include "core/model/model.h"

namespace cwb {

// input: batch * (floats per sample), channels_last. Returns batch * (output floats per
// sample). logits = stop before a final softmax. Throws cwb::Error if the model is not evaluable.
std::vector<float> referenceForward(const Model& model, const float* input, int batch,
                                    bool logits = false);

}  // namespace cwb
