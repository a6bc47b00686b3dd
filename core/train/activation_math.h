// Activation functions and their derivatives for training, in Keras's definitions.
// Forward and backward are separate so that layers with a fused activation (Dense,
// Conv2D) and the Activation layer share one implementation.
#pragma once

#include "core/model/layer.h"

namespace cwb::train {

// Whether training implements this activation (hard_sigmoid is left out: Keras 2 and
// Keras 3 define it differently, and a wrong guess would train silently wrong).
bool trainableActivation(ActivationKind kind);

// True when f'(z) can be computed from y = f(z) alone, so the layer need not keep z.
bool derivativeFromOutput(ActivationKind kind);

// y = f(z) for n values; softmax normalises each run of `width` values (the last axis).
// z and y may alias.
void activationForward(ActivationKind kind, float alpha, const float* z, float* y, long long n,
                       int width);

// dz = f'(z) * dy (softmax: the Jacobian-vector product over each run of `width`).
// z may be null when derivativeFromOutput(kind); dz may alias dy.
void activationBackward(ActivationKind kind, float alpha, const float* z, const float* y,
                        const float* dy, float* dz, long long n, int width);

}  // namespace cwb::train
