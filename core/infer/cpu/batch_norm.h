// BatchNormalization at inference on the CPU when it cannot be folded into a preceding
// Conv2D/Dense: a per-channel affine map over the last axis.
#pragma once

#include "core/infer/plan.h"

namespace cwb::cpu {

// Naive reference in double: gamma * (x - mean) / sqrt(var + epsilon) + beta over the last
// axis of `channels`. gamma or beta may be null (Keras scale=False / center=False).
void batchNormReference(const float* input, long long count, int channels, const float* gamma,
                        const float* beta, const float* mean, const float* variance, float epsilon,
                        float* output);

// Fast kernel: output = activation(input * scale[c] + shift[c]); input may equal output.
void channelAffine(int channels, const float* scale, const float* shift,
                   const ActivationSpec& activation, const float* input, long long count,
                   float* output);

}  // namespace cwb::cpu
