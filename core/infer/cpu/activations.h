// Activation functions on the CPU, Keras semantics: a fast float kernel used by the engine
// (alone or as the epilogue of a GEMM) and a naive double-precision reference for tests.
#pragma once

#include "core/infer/plan.h"

namespace cwb::cpu {

// In place over `count` floats; softmax works on consecutive rows of spec.rowLength
// (count must be a multiple of it) and subtracts each row's maximum first.
void applyActivation(const ActivationSpec& spec, float* data, long long count);

// The GEMM epilogue: data is rows x cols row-major; adds bias[col] (if bias is not null)
// and applies the activation. A softmax here must have rowLength == cols.
void biasActivation(const ActivationSpec& spec, const float* bias, float* data, long long rows,
                    int cols);

// Reference: one element in double (not softmax).
double activationReference(ActivationKind kind, double alpha, double x);
// Reference over an array, softmax included, computed in double.
void activationReference(const ActivationSpec& spec, const float* in, long long count, float* out);

}  // namespace cwb::cpu
