// The element-wise rules, in one place, so that the fused pass, the reference kernels and
// the tests all agree on the exact float32 arithmetic.
#pragma once

#include <cmath>
#include <cstdint>

namespace cwb {

// std::round (half away from zero) written so that compilers vectorize it: x - trunc(x) is
// exact in float, so the comparison with 0.5 decides ties exactly as std::round does.
inline float roundHalfAway(float x) {
    const float t = std::trunc(x);
    return std::fabs(x - t) >= 0.5f ? t + std::copysign(1.f, x) : t;
}

// Uniform step: q = round(w / alpha) (half away from zero), then q * alpha, all in float32.
// alpha == 0 returns w unchanged. Worked example: w = 8, alpha = 5 gives 10.
inline float quantizeUniform(float w, float alpha) {
    if (alpha == 0.f) return w;
    const float q = roundHalfAway(w / alpha);
    return q * alpha;
}

// Threshold pruning: true when the weight is kept.
inline bool keptByThreshold(float w, float rho) { return std::fabs(w) >= rho; }
// The seed article's literal rule W >= rho (prunes every negative weight): teaching only.
inline bool keptByTextbookThreshold(float w, float rho) { return w >= rho; }

// One k-bit affine quantizer: w' = (clamp(round(w / step) + zeroPoint, qmin, qmax) - zeroPoint) *
// step.
struct AffineQuantizer {
    float step = 0.f;  // 0 = the range is empty: everything maps to 0
    std::int32_t zeroPoint = 0;
    std::int32_t qmin = 0, qmax = 0;

    std::int32_t code(float w) const {
        if (step == 0.f) return zeroPoint;
        float q = roundHalfAway(w / step) + static_cast<float>(zeroPoint);
        q = std::fmin(std::fmax(q, static_cast<float>(qmin)), static_cast<float>(qmax));
        return static_cast<std::int32_t>(q);
    }
    float value(std::int32_t c) const { return static_cast<float>(c - zeroPoint) * step; }
    float apply(float w) const { return value(code(w)); }
};

// The quantizer for bits k over [lo, hi] (lo <= 0 <= hi after widening).
// Symmetric: step = max(|lo|, |hi|) / (2^(k-1) - 1), codes -(2^(k-1)-1)..2^(k-1)-1.
// Asymmetric: step = (hi - lo) / (2^k - 1), zeroPoint = round(-lo / step), codes 0..2^k-1.
AffineQuantizer makeSymmetricQuantizer(float maxAbs, int bits);
AffineQuantizer makeAsymmetricQuantizer(float lo, float hi, int bits);

// Number of bits a set of `levels` distinct values needs: ceil(log2(levels)); 0 for <= 1.
int effectiveBits(long long levels);

}  // namespace cwb
