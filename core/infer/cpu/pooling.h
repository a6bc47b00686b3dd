// Max and average pooling on the CPU, channels_last, Keras/TF semantics: 'same' windows
// are clipped to the image, max ignores the padding and average divides by the number of
// elements actually inside the image.
#pragma once

#include "core/infer/plan.h"

namespace cwb::cpu {

// Naive references with Keras's output sizes (batch, outH, outW, channels).
void maxPool2dReference(const float* input, int batch, int inH, int inW, int channels,
                        const PoolConfig& config, float* output);
void avgPool2dReference(const float* input, int batch, int inH, int inW, int channels,
                        const PoolConfig& config, float* output);

// Fast kernels: the channel loop is innermost and contiguous, so it runs in vector registers.
void maxPool2d(const Window2D& window, const float* input, int batch, float* output);
void avgPool2d(const Window2D& window, const float* input, int batch, float* output);

}  // namespace cwb::cpu
