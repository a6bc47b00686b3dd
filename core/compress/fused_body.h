// The vector kernels of the fused pass, written once for every ISA (internal to
// core/compress). Each repeats its *Ref kernel of fused_kernels.h lane by lane with the same
// IEEE operations in the same order (x86's min and max return the second operand for NaN,
// as the reference's selects do), so every family gives the reference's bits. Whole vectors
// go through the ISA; the few elements after the last whole vector go through the *Ref kernel
// itself (the lane sums continue in the same lanes: vectors start at multiples of 8).
//
// An ISA's file (fused_avx2.cpp, fused_avx512.cpp) defines its operations struct, then
// includes this file once with CWB_FUSED_TARGET (its target attribute), CWB_FUSED_ISA (the
// struct) and CWB_FUSED_ENTRY (its table's function, declared in fused_kernels.h) defined:
// every kernel here is compiled for that ISA only and runs only where the CPU has it. The
// struct V gives (those spelt alike but for the width through core/util/vector_ops.h):
//   kWidth                     floats per vector F; M: a lane mask, I: int32 lanes
//   load, store, stream(p, v)  unaligned loads and stores; stream needs p on a vector boundary
//   set1, zero, add, sub, mul, div, min, max, abs, trunc (toward zero)
//   signedOne(x)               +1 or -1 with the sign of x
//   ge, le, lt (ordered), neq (unordered): comparisons to masks
//   select(m, yes, no)         per lane; selectI likewise for I
//   keepBytes(p)               kWidth mask bytes, non-zero: true
//   toInt (truncating), addI, set1I, zeroI, storeU16 (int32 lanes <= 65535 to uint16)
//   D8 (8 double lanes): widen8(p) (8 floats), loadD, storeD, set1D, subD, fmaD, absD, maxD,
//   reduceMaxD
//   Zeros: a count of floats equal to 0 (kept per lane where that is cheaper): noZeros(),
//   addZeros8(n, p) (8 floats), total(n)
#include <cstddef>
#include <cstdint>

#include "core/compress/fused_kernels.h"

#if !defined(CWB_FUSED_TARGET) || !defined(CWB_FUSED_ISA) || !defined(CWB_FUSED_ENTRY)
#error "define CWB_FUSED_TARGET, CWB_FUSED_ISA and CWB_FUSED_ENTRY before including fused_body.h"
#endif

namespace cwb::fused {
namespace {
namespace vec {

using V = CWB_FUSED_ISA;
constexpr int N = V::kWidth;

// quantize.h's roundHalfAway: x - trunc(x) is exact, so the comparison decides ties exactly.
CWB_FUSED_TARGET inline V::F roundHalfAway(V::F x) {
    const V::F t = V::trunc(x);
    const V::M up = V::ge(V::abs(V::sub(x, t)), V::set1(0.5f));
    return V::select(up, V::add(t, V::signedOne(x)), t);
}

template <QuantKind Q, bool PerUnit, KeepRule::Kind K>
CWB_FUSED_TARGET void values(const BlockParams& p, int len) {
    const V::F rho = V::set1(p.rho), alpha = V::set1(p.alpha), zero = V::zero();
    const V::F qmin = V::set1(p.qmin), qmax = V::set1(p.qmax);
    int j = 0;
    for (; j + N <= len; j += N) {
        const V::F w = V::load(p.in + j);
        V::F v = w, code = zero;
        if constexpr (Q == QuantKind::Uniform) {
            code = roundHalfAway(V::div(w, alpha));
            v = V::mul(code, alpha);
        }
        if constexpr (Q == QuantKind::Affine) {
            const V::F step = PerUnit ? V::load(p.steps + j) : V::set1(p.steps[0]);
            const V::F zp = PerUnit ? V::load(p.zeroPoints + j) : V::set1(p.zeroPoints[0]);
            V::F q = V::add(roundHalfAway(V::div(w, step)), zp);
            q = V::max(q, qmin);  // NaN (step 0) goes to qmin, as the reference's select
            q = V::min(q, qmax);
            code = V::select(V::neq(step, zero), V::sub(q, zp), zero);
            v = V::mul(code, step);
        }
        if constexpr (K != KeepRule::Kind::All) {
            V::M keep;
            if constexpr (K == KeepRule::Kind::Threshold) keep = V::ge(V::abs(w), rho);
            if constexpr (K == KeepRule::Kind::Textbook) keep = V::ge(w, rho);
            if constexpr (K == KeepRule::Kind::Explicit) keep = V::keepBytes(p.keepMask + j);
            v = V::select(keep, v, zero);
            code = V::select(keep, code, zero);
        }
        V::store(p.out + j, v);
        V::store(p.codes + j, code);
    }
    if (j == len) return;
    BlockParams rest = p;
    rest.in += j;
    rest.out += j;
    rest.codes += j;
    if constexpr (K == KeepRule::Kind::Explicit) rest.keepMask += j;
    if constexpr (PerUnit) {
        rest.steps += j;
        rest.zeroPoints += j;
    }
    valuesRef<Q, PerUnit, K>(rest, len - j);
}

// histogramSlot of every lane.
CWB_FUSED_TARGET inline V::I slotsOf(V::F v, const BinScale& b) {
    V::F x = V::mul(V::sub(v, V::set1(b.lo)), V::set1(b.scale));
    x = V::max(x, V::zero());  // NaN -> 0, as the reference
    x = V::min(x, V::set1(static_cast<float>(b.bins - 1)));
    const V::I inside = V::addI(V::toInt(x), V::set1I(1));
    const V::I s = V::selectI(V::le(v, V::set1(b.hi)), inside, V::set1I(b.bins + 1));
    return V::selectI(V::lt(v, V::set1(b.lo)), V::zeroI(), s);
}

CWB_FUSED_TARGET void weightSlots(const float* values, int len, const BinScale& b,
                                  std::uint16_t* out) {
    int j = 0;
    for (; j + N <= len; j += N) V::storeU16(out + j, slotsOf(V::load(values + j), b));
    weightSlotsRef(values + j, len - j, b, out + j);
}

CWB_FUSED_TARGET void errorSlots(const float* in, const float* out, int len, const BinScale& b,
                                 std::uint16_t* slotOut) {
    int j = 0;
    for (; j + N <= len; j += N)
        V::storeU16(slotOut + j, slotsOf(V::sub(V::load(out + j), V::load(in + j)), b));
    errorSlotsRef(in + j, out + j, len - j, b, slotOut + j);
}

CWB_FUSED_TARGET void sums(const float* in, const float* out, int len, LaneSums& s) {
    static_assert(kLanes == 8, "D8 holds the 8 lanes");
    V::D8 squares = V::loadD(s.squares), errors = V::loadD(s.errors);
    V::D8 maxAbs = V::set1D(s.maxAbsError);
    V::Zeros zeros = V::noZeros(), originalZeros = V::noZeros();
    int j = 0;
    for (; j + 8 <= len; j += 8) {
        const V::D8 w = V::widen8(in + j);
        const V::D8 d = V::subD(V::widen8(out + j), w);
        squares = V::fmaD(w, w, squares);
        errors = V::fmaD(d, d, errors);
        maxAbs = V::maxD(V::absD(d), maxAbs);
        zeros = V::addZeros8(zeros, out + j);
        originalZeros = V::addZeros8(originalZeros, in + j);
    }
    V::storeD(s.squares, squares);
    V::storeD(s.errors, errors);
    s.maxAbsError = V::reduceMaxD(maxAbs);  // the largest of non-NaN values: any order
    s.zeros += V::total(zeros);
    s.originalZeros += V::total(originalZeros);
    sumsRef(in + j, out + j, len - j, s);
}

CWB_FUSED_TARGET void codeIndices(const float* codes, int len, float base, float top,
                                  std::uint16_t* out) {
    int j = 0;
    for (; j + N <= len; j += N) {
        V::F x = V::sub(V::load(codes + j), V::set1(base));
        x = V::max(x, V::zero());
        x = V::min(x, V::set1(top));
        V::storeU16(out + j, V::toInt(x));
    }
    codeIndicesRef(codes + j, len - j, base, top, out + j);
}

// Plain stores up to a vector boundary of dst, then streaming stores of whole vectors.
CWB_FUSED_TARGET void store(float* dst, const float* src, int len) {
    constexpr std::uintptr_t kAlign = sizeof(float) * N;
    int j = 0;
    for (; j < len && reinterpret_cast<std::uintptr_t>(dst + j) % kAlign != 0; ++j) dst[j] = src[j];
    for (; j + N <= len; j += N) V::stream(dst + j, V::load(src + j));
    storeRef(dst + j, src + j, len - j);
}

}  // namespace vec

struct Family {
    template <QuantKind Q, bool PerUnit, KeepRule::Kind K>
    static constexpr QuantizeRunFn values = &vec::values<Q, PerUnit, K>;
    static constexpr SlotsFn weightSlots = &vec::weightSlots;
    static constexpr ErrorSlotsFn errorSlots = &vec::errorSlots;
    static constexpr SumsFn sums = &vec::sums;
    static constexpr CodeIndicesFn codeIndices = &vec::codeIndices;
    static constexpr StoreFn store = &vec::store;
};

}  // namespace

const FusedKernels& CWB_FUSED_ENTRY() {
    static constexpr FusedKernels kTable = kernelTable<Family>();
    return kTable;
}

}  // namespace cwb::fused
