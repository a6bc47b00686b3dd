// The fused pass's fast element arithmetic (see fused_pass.cu): the same results as the CPU's
// rules (core/compress/quantize.h, core/stats/histogram.h) in fewer and cheaper instructions.
// Float-to-integer conversions, which run at a quarter of the float rate, are replaced by
// additions rounded toward zero onto 2^23, whose bits then hold the integer, and the quotient
// w / step by a product with the reciprocal and one exact correction. Each shortcut holds
// only under conditions that the host checks before it picks these kernels (fastBinsOk, and
// steps that are positive and finite); otherwise the pass takes the plain rules.
#pragma once

#include <cuda_runtime.h>

namespace cwb::cuda::fast {

// 2^23: a float in [2^23, 2^24) is an integer, and its bits minus kMagicBits are that integer.
constexpr float kMagic = 8388608.f;
constexpr unsigned kMagicBits = 0x4B000000u;

// round-half-away-from-zero(w / step), as the CPU. The quotient is rounded as the CPU's
// division rounds it: with recip = 1 / step correctly rounded, w * recip is within an ulp,
// the remainder w - q step is exact in one fused multiply-add, and one correction gives the
// correctly rounded quotient (Markstein's theorem; the host keeps 2^-60 <= step <= 2^60, so
// every |w| small enough to break the remainder's exactness has a code of 0 either way).
// The CPU's trunc / compare / add-one rule equals trunc(q + copysign(0.5, q)) with the sum
// rounded toward zero. `slow` is set where |q| >= limit (at most 2^22: beyond it codes may
// leave the counted span), infinities and NaN; the caller then divides exactly.
__device__ inline float roundQuotient(float w, float step, float recip, float limit,
                                      unsigned& slow) {
    const float q0 = __fmul_rn(w, recip);
    const float q = __fmaf_rn(__fmaf_rn(-q0, step, w), recip, q0);
    slow |= static_cast<unsigned>(!(fabsf(q) < limit));  // or-ed: one branch per four weights
    return truncf(__fadd_rz(q, copysignf(0.5f, q)));
}

// The CPU's roundHalfAway(w / step) with an IEEE division: the fallback of roundQuotient.
__device__ inline float roundQuotientExact(float w, float step) {
    const float x = __fdiv_rn(w, step);
    const float t = truncf(x);
    return fabsf(__fsub_rn(x, t)) >= 0.5f ? __fadd_rn(t, copysignf(1.f, x)) : t;
}

// A histogram's constants for rawSlot. Raw slots: 0 below lo, 1 + floor(x) for x = (value -
// lo) * scale in [0, bins + 1) (value <= hi gives x < bins + 1: the host checks it), and
// bins + 2 above hi; the merge adds raw bins + 1 to bin bins (the CPU clamps x to bins - 1)
// and moves raw bins + 2 to the overflow slot. The array's first counter (A, well below
// 2^22) is part of the constants, so that all arrays share one address offset.
struct Bins {
    float lo, hi, scale;
    float start;  // 2^23 + 1 + A
    float over;   // 2^23 + A + bins + 2
    float zero;   // 2^23 + A + bins + 3: the original weights' exact zeros (rawSlotOrZero)
};

// The counter of `value`, as float bits (subtract kMagicBits for the index). value < lo has
// x < 0 (scale >= 1, so no product underflows to -0; the host checks it), clamped to -1 and
// then rounded onto raw slot 0; NaN and value > hi take `over`, as the CPU's rule does.
__device__ inline unsigned rawSlot(float value, const Bins& b) {
    float x = __fmul_rn(__fsub_rn(value, b.lo), b.scale);
    x = fmaxf(x, -1.f);
    const float y = __fadd_rz(x, b.start);
    return __float_as_uint(value <= b.hi ? y : b.over);
}

// rawSlot without the clamp below lo, for values known to be at least a floor whose x is
// above -(A + 1): the counters between the array's start and its bin 0 take those under lo.
__device__ inline unsigned rawSlotFrom(float value, const Bins& b) {
    const float y = __fadd_rz(__fmul_rn(__fsub_rn(value, b.lo), b.scale), b.start);
    return __float_as_uint(value <= b.hi ? y : b.over);
}

// rawSlot, but +0 and -0 to their own counter: the count of zero weights comes with the
// histogram (the merge adds it back to the bin of 0).
__device__ inline unsigned rawSlotOrZero(float value, const Bins& b) {
    float x = __fmul_rn(__fsub_rn(value, b.lo), b.scale);
    x = fmaxf(x, -1.f);
    float y = __fadd_rz(x, b.start);
    y = value <= b.hi ? y : b.over;
    return __float_as_uint(value == 0.f ? b.zero : y);
}

// The code counter of code + 2^23 + A - base (exact: |base|, top, A < 2^21, the host checks
// it): clamped to [2^23 + A, 2^23 + A + top] as float bits (subtract kMagicBits), the CPU's
// index code - base clamped to [0, top] for any code, NaN to 0.
__device__ inline float clampCode(float shifted, float low, float top) {
    return fminf(fmaxf(shifted, low), top);
}

// One count in shared counters of 32 lane-private copies (128 bytes a counter): `offset` is
// the counters' shared-memory address plus the thread's lane * 4 minus kMagicBits * 128,
// modulo 2^32, so the address is one multiply-add of the counter's float bits.
__device__ inline void count(unsigned counterBits, unsigned offset) {
    // No memory clobber: volatile asm keeps its order among volatile asm, and the kernel
    // fences the compiler once after its counting loop.
    asm volatile("red.shared.add.u32 [%0], 1;" ::"r"(counterBits * 128u + offset));
}

}  // namespace cwb::cuda::fast
