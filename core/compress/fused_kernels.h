// The element kernels of the fused pass: apply mask and quantizer to a block, compute
// histogram slots, code counter indices and the block's sums, and store the block. Each has a
// plain scalar *Ref version; the vector versions (fused_body.h, compiled for AVX2 in
// fused_avx2.cpp and for AVX-512 in fused_avx512.cpp) are made of the same IEEE operations in
// the same order, so every family gives identical bits (fused_kernels_test and
// quant_types_test check each family this CPU runs against the *Ref kernels). The family is
// chosen at run time: fusedKernels(quant::activeIsa()).
// Nothing here is named `slots`: Qt defines that word as a macro, and tests include this
// header beside Qt.
#pragma once

#include <xmmintrin.h>

#include <bit>
#include <cmath>
#include <cstdint>

#include "core/compress/fused_pass.h"
#include "core/compress/quant_types.h"
#include "core/compress/quantize.h"
#include "core/quant/block_formats.h"
#include "core/stats/histogram.h"

namespace cwb::fused {

struct BinScale {
    float lo = 0.f, hi = 0.f, scale = 0.f;
    int bins = 0;
};

inline BinScale binScale(const HistogramSpec& spec) {
    return {static_cast<float>(spec.lo), static_cast<float>(spec.hi),
            static_cast<float>(spec.bins / (spec.hi - spec.lo)), spec.bins};
}

// What a block needs: the job's parameters flattened for the kernels.
struct BlockParams {
    const float* in;
    float* out;
    float* codes;
    const std::uint8_t* keepMask;
    float rho, alpha, qmin, qmax;
    const float* steps;  // Affine: per element (PerUnit) or [0]
    const float* zeroPoints;
};

// ---- scalar reference kernels --------------------------------------------------------

template <QuantKind Q, bool PerUnit, KeepRule::Kind K>
void valuesRef(const BlockParams& p, int len) {
    for (int j = 0; j < len; ++j) {
        const float w = p.in[j];
        bool keep = true;
        if constexpr (K == KeepRule::Kind::Threshold) keep = keptByThreshold(w, p.rho);
        if constexpr (K == KeepRule::Kind::Textbook) keep = keptByTextbookThreshold(w, p.rho);
        if constexpr (K == KeepRule::Kind::Explicit) keep = p.keepMask[j] != 0;
        float v = w, code = 0.f;
        if constexpr (Q == QuantKind::Uniform) {
            code = roundHalfAway(w / p.alpha);
            v = code * p.alpha;
        }
        if constexpr (Q == QuantKind::Affine) {
            const float step = p.steps[PerUnit ? j : 0];
            const float zp = p.zeroPoints[PerUnit ? j : 0];
            float q = roundHalfAway(w / step) + zp;
            q = q > p.qmin ? q : p.qmin;  // NaN (step 0) goes to qmin; the value is 0 either way
            q = q < p.qmax ? q : p.qmax;
            code = step == 0.f ? 0.f : q - zp;  // an empty range: everything is 0 (+0)
            v = code * step;
        }
        p.out[j] = keep ? v : 0.f;
        p.codes[j] = keep ? code : 0.f;
    }
}

inline void weightSlotsRef(const float* values, int len, const BinScale& b, std::uint16_t* out) {
    for (int j = 0; j < len; ++j)
        out[j] = static_cast<std::uint16_t>(histogramSlot(values[j], b.lo, b.hi, b.scale, b.bins));
}

inline void errorSlotsRef(const float* in, const float* out, int len, const BinScale& b,
                          std::uint16_t* slotOut) {
    for (int j = 0; j < len; ++j)
        slotOut[j] =
            static_cast<std::uint16_t>(histogramSlot(out[j] - in[j], b.lo, b.hi, b.scale, b.bins));
}

// Sums of one block in kLanes fixed lanes (element j goes to lane j % kLanes), so that the
// order of additions is part of the definition, not of the thread split.
inline constexpr int kLanes = 8;
struct LaneSums {
    double squares[kLanes] = {}, errors[kLanes] = {};
    double maxAbsError = 0.0;
    long long zeros = 0, originalZeros = 0;
};

inline void sumsRef(const float* in, const float* out, int len, LaneSums& s) {
    for (int j = 0; j < len; ++j) {
        const int l = j % kLanes;
        const double w = in[j];
        const double d = static_cast<double>(out[j]) - w;
        s.squares[l] = std::fma(w, w, s.squares[l]);
        s.errors[l] = std::fma(d, d, s.errors[l]);
        const double a = std::fabs(d);
        s.maxAbsError = a > s.maxAbsError ? a : s.maxAbsError;
        s.zeros += out[j] == 0.f ? 1 : 0;
        s.originalZeros += in[j] == 0.f ? 1 : 0;
    }
}

inline void storeRef(float* dst, const float* src, int len) {
    for (int j = 0; j < len; ++j) dst[j] = src[j];
}

// Code counter indices: code - base clamped to [0, top] (NaN to 0), for span <= 65536.
inline void codeIndicesRef(const float* codes, int len, float base, float top, std::uint16_t* out) {
    for (int j = 0; j < len; ++j) {
        float x = codes[j] - base;
        x = x > 0.f ? x : 0.f;
        x = x < top ? x : top;
        out[j] = static_cast<std::uint16_t>(static_cast<int>(x));
    }
}

// ---- the kernel families ---------------------------------------------------------------

using SlotsFn = void (*)(const float* values, int len, const BinScale& b, std::uint16_t* out);
using ErrorSlotsFn = void (*)(const float* in, const float* out, int len, const BinScale& b,
                              std::uint16_t* slotOut);
using SumsFn = void (*)(const float* in, const float* out, int len, LaneSums& s);
using CodeIndicesFn = void (*)(const float* codes, int len, float base, float top,
                               std::uint16_t* out);
using StoreFn = void (*)(float* dst, const float* src, int len);

// One family of kernels (scalar reference, AVX2 or AVX-512).
struct FusedKernels {
    // values[QuantKind][per unit][KeepRule::Kind]; the per-unit form is Affine's only.
    QuantizeRunFn values[3][2][kKeepKinds] = {};
    SlotsFn weightSlots = nullptr;
    ErrorSlotsFn errorSlots = nullptr;
    SumsFn sums = nullptr;
    CodeIndicesFn codeIndices = nullptr;
    // Copies a block of results to the output. The vector families write whole vectors with
    // streaming stores: the output is not read again during the pass, and streaming spares
    // the read of each line before it is written (a third of the memory traffic). The caller
    // fences (storeFence) before others read the output.
    StoreFn store = nullptr;
};

// The family of `isa`; throws cwb::Error if this CPU lacks it (quant::isaSupported).
const FusedKernels& fusedKernels(quant::Isa isa);

inline void storeFence() { _mm_sfence(); }

// A table from a family F: a struct whose static constexpr members point at its kernels
// (values<Q, PerUnit, K>, weightSlots, errorSlots, sums, codeIndices, store).
template <typename F, QuantKind Q, bool PerUnit>
constexpr void fillValues(FusedKernels& t) {
    using K = KeepRule::Kind;
    auto& r = t.values[static_cast<int>(Q)][PerUnit ? 1 : 0];
    r[static_cast<int>(K::All)] = F::template values<Q, PerUnit, K::All>;
    r[static_cast<int>(K::Threshold)] = F::template values<Q, PerUnit, K::Threshold>;
    r[static_cast<int>(K::Textbook)] = F::template values<Q, PerUnit, K::Textbook>;
    r[static_cast<int>(K::Explicit)] = F::template values<Q, PerUnit, K::Explicit>;
}

template <typename F>
constexpr FusedKernels kernelTable() {
    FusedKernels t;
    fillValues<F, QuantKind::None, false>(t);
    fillValues<F, QuantKind::Uniform, false>(t);
    fillValues<F, QuantKind::Affine, false>(t);
    fillValues<F, QuantKind::Affine, true>(t);
    t.weightSlots = F::weightSlots;
    t.errorSlots = F::errorSlots;
    t.sums = F::sums;
    t.codeIndices = F::codeIndices;
    t.store = F::store;
    return t;
}

// The vector families' tables (fused_avx2.cpp, fused_avx512.cpp); call through fusedKernels.
const FusedKernels& fusedKernelsAvx2();
const FusedKernels& fusedKernelsAvx512();
}  // namespace cwb::fused
