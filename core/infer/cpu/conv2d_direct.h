// Direct convolution with AVX-512 (no patch matrix): each call computes a tile of up to 24
// neighbouring output pixels of one output row times up to 64 filters in vector registers,
// reading the input rows and the Keras-layout kernel where they lie. Chosen at run time when
// the CPU has AVX-512F; conv2d.h dispatches to it.
#pragma once

#include <cstddef>

#include "core/infer/plan.h"

namespace cwb::cpu {

bool directConvAvailable();

// Floats of scratch conv2dDirect needs (a zero-padded copy of one image for 'same').
std::size_t conv2dDirectScratchFloats(const Window2D& window);

// output = activation(conv(input) + bias), same contract as conv2d in conv2d.h.
// Only call when directConvAvailable().
void conv2dDirect(const Window2D& window, int filters, const float* weights, const float* bias,
                  const ActivationSpec& activation, const float* input, int batch, float* output, float* scratch);

}  // namespace cwb::cpu
