// The plan ops that every CPU engine runs with the same float32 kernel, whatever it does
// for the weighted ones: pooling, an unfolded BatchNormalization, a lone activation.
#pragma once

#include "core/infer/plan.h"

namespace cwb::cpu {

// Runs `op` on n samples if it is one of those kinds and returns true; returns false,
// touching nothing, for Conv2D and Dense, which the caller's engine runs its own way.
bool runUnweightedOp(const PlanOp& op, const float* in, int n, float* out);

}  // namespace cwb::cpu
