// Dense (fully connected) layers on the CPU, Keras semantics: kernel (in, out), applied to
// the last axis of the input, so a sample of shape (..., in) is rows of `in` features.
#pragma once

#include "core/infer/plan.h"

namespace cwb::cpu {

// Naive reference in double: output (rows, outFeatures) = input (rows, inFeatures) * kernel + bias.
void denseReference(const float* input, long long rows, int inFeatures, int outFeatures,
                    const float* kernel, const float* bias, float* output);

// Fast kernel: one SGEMM, then bias and activation in its epilogue.
void dense(int inFeatures, int outFeatures, const float* weights, const float* bias,
           const ActivationSpec& activation, const float* input, long long rows, float* output);

}  // namespace cwb::cpu
