// The error of the workbench's own scheme, the uniform step alpha and the threshold rho, on
// a row of weights without writing the result: the whole-model table's alpha/rho column.
// The values are those of the fused compression pass (core/compress/fused_kernels.h,
// valuesRef): W' = keep(W) ? round_half_away(W / alpha) * alpha : 0 in float32, the
// difference and its square in double.
#pragma once

#include <cstdint>

namespace cwb::quant {

struct StepRule {
    float alpha = 0.f;      // 0: no quantization
    float rho = 0.f;        // keep |W| >= rho (0 keeps everything)
    bool textbook = false;  // keep W >= rho instead (the seed article's literal rule)
};

struct StepErrorSums {
    double error = 0.0;   // sum of (W' - W)^2
    long long zeros = 0;  // W' == 0
};

// Adds n values' error and zeros to `sums`, with the active Isa's kernel (the order of the
// double additions is fixed for a given n and Isa).
void addStepError(const float* in, std::int64_t n, const StepRule& rule, StepErrorSums& sums);

}  // namespace cwb::quant
