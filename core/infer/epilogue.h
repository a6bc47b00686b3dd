// What follows the product of a Dense or Conv2D layer in the compressed kernels: bias, an
// optional per-channel affine (an unfolded BatchNormalization) and the activation.
#pragma once

#include "core/infer/plan.h"

namespace cwb {

struct Epilogue {
    const float* bias = nullptr;   // n or null
    const float* scale = nullptr;  // n or null
    const float* shift = nullptr;  // n, with scale
    ActivationSpec activation;
};

// Applies an epilogue to rows x n floats in place.
void applyEpilogue(const Epilogue& epilogue, float* y, long long rows, int n);

}  // namespace cwb
