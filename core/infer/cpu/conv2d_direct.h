// Direct convolution with AVX-512 (no patch matrix): each step computes a tile of up to 12
// consecutive output pixels times up to 64 filters in vector registers, reading the input
// where it lies and weights packed once per layer. Chosen at run time when the CPU has
// AVX-512F; conv2d.h dispatches to it.
#pragma once

#include <cstddef>
#include <vector>

#include "core/infer/plan.h"

namespace cwb::cpu {

bool directConvAvailable();

// A convolution's weights rearranged for conv2dDirect, once per layer: filters in blocks of
// up to 4 vectors of 16, each block (taps, 16 * vectors) row-major and zero-padded to whole
// vectors, so that the inner loop never needs a mask.
struct DirectConvWeights {
    Window2D window;
    int filters = 0;
    int vectorsPerBlock = 1;
    std::vector<float> weights;
    std::vector<float> bias;       // padded to whole vectors; zeros when the layer has none
    std::vector<long long> steps;  // input pointer advance after each tap (next kernel row: a jump)
};

// weights: Keras layout (kh, kw, cin, filters); bias may be null.
DirectConvWeights packDirectConv(const Window2D& window, int filters, const float* weights,
                                 const float* bias);

// Floats of scratch conv2dDirect needs (a zero-padded copy of one image for 'same').
std::size_t conv2dDirectScratchFloats(const Window2D& window);

// output = activation(conv(input) + bias). Only call when directConvAvailable().
void conv2dDirect(const DirectConvWeights& packed, const ActivationSpec& activation,
                  const float* input, int batch, float* output, float* scratch);

}  // namespace cwb::cpu
