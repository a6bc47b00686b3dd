// The element kernels of the fused pass: apply mask and quantizer to a block, and compute
// histogram slots. Each has a plain scalar *Ref version and, where the compiler targets
// AVX-512, a vector version made of the same IEEE operations in the same order, so both give
// identical bits (fused_kernels_test and quant_types_test check that on random data).
// Nothing here is named `slots`: Qt defines that word as a macro, and tests include this
// header beside Qt.
#pragma once

#include <bit>
#include <cmath>
#include <cstdint>

#if defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512VL__)
// GCC 12 warns inside its own AVX-512 headers (_mm512_undefined_*, GCC bug 105593).
#if !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#endif
#include <immintrin.h>
#define CWB_FUSED_AVX512 1
#endif

#include "core/compress/fused_pass.h"
#include "core/compress/quantize.h"
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

// Code counter indices: code - base clamped to [0, top] (NaN to 0), for span <= 65536.
inline void codeIndicesRef(const float* codes, int len, float base, float top, std::uint16_t* out) {
    for (int j = 0; j < len; ++j) {
        float x = codes[j] - base;
        x = x > 0.f ? x : 0.f;
        x = x < top ? x : top;
        out[j] = static_cast<std::uint16_t>(static_cast<int>(x));
    }
}

// ---- AVX-512 kernels -----------------------------------------------------------------

#if CWB_FUSED_AVX512
inline __mmask16 tailMask(int n) { return n >= 16 ? __mmask16(0xffff) : __mmask16((1u << n) - 1u); }

inline __m512 roundHalfAway16(__m512 x) {
    const __m512 t = _mm512_roundscale_ps(x, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
    const __mmask16 up =
        _mm512_cmp_ps_mask(_mm512_abs_ps(_mm512_sub_ps(x, t)), _mm512_set1_ps(0.5f), _CMP_GE_OQ);
    const __m512 one = _mm512_castsi512_ps(_mm512_or_si512(
        _mm512_and_si512(_mm512_castps_si512(x), _mm512_set1_epi32(static_cast<int>(0x80000000u))),
        _mm512_castps_si512(_mm512_set1_ps(1.f))));
    return _mm512_mask_add_ps(t, up, t, one);
}

template <QuantKind Q, bool PerUnit, KeepRule::Kind K>
void valuesAvx512(const BlockParams& p, int len) {
    const __m512 rho = _mm512_set1_ps(p.rho), alpha = _mm512_set1_ps(p.alpha);
    const __m512 qmin = _mm512_set1_ps(p.qmin), qmax = _mm512_set1_ps(p.qmax),
                 zero = _mm512_setzero_ps();
    for (int j = 0; j < len; j += 16) {
        const __mmask16 m = tailMask(len - j);
        const __m512 w = _mm512_maskz_loadu_ps(m, p.in + j);
        __mmask16 keep = 0xffff;
        if constexpr (K == KeepRule::Kind::Threshold)
            keep = _mm512_cmp_ps_mask(_mm512_abs_ps(w), rho, _CMP_GE_OQ);
        if constexpr (K == KeepRule::Kind::Textbook) keep = _mm512_cmp_ps_mask(w, rho, _CMP_GE_OQ);
        if constexpr (K == KeepRule::Kind::Explicit)
            keep = _mm512_test_epi32_mask(
                _mm512_cvtepu8_epi32(_mm_maskz_loadu_epi8(m, p.keepMask + j)),
                _mm512_set1_epi32(0xff));
        __m512 v = w, code = zero;
        if constexpr (Q == QuantKind::Uniform) {
            code = roundHalfAway16(_mm512_div_ps(w, alpha));
            v = _mm512_mul_ps(code, alpha);
        }
        if constexpr (Q == QuantKind::Affine) {
            const __m512 step =
                PerUnit ? _mm512_maskz_loadu_ps(m, p.steps + j) : _mm512_set1_ps(p.steps[0]);
            const __m512 zp = PerUnit ? _mm512_maskz_loadu_ps(m, p.zeroPoints + j)
                                      : _mm512_set1_ps(p.zeroPoints[0]);
            __m512 q = _mm512_add_ps(roundHalfAway16(_mm512_div_ps(w, step)), zp);
            q = _mm512_max_ps(q,
                              qmin);  // NaN in the first operand yields qmin, as the scalar select
            q = _mm512_min_ps(q, qmax);
            code = _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(step, zero, _CMP_NEQ_UQ),
                                       _mm512_sub_ps(q, zp));
            v = _mm512_mul_ps(code, step);
        }
        _mm512_mask_storeu_ps(p.out + j, m, _mm512_maskz_mov_ps(keep, v));
        _mm512_mask_storeu_ps(p.codes + j, m, _mm512_maskz_mov_ps(keep, code));
    }
}

inline __m512i slots16(__m512 v, const BinScale& b) {
    __m512 x = _mm512_mul_ps(_mm512_sub_ps(v, _mm512_set1_ps(b.lo)), _mm512_set1_ps(b.scale));
    x = _mm512_max_ps(x, _mm512_setzero_ps());  // NaN -> 0, as the scalar rule
    x = _mm512_min_ps(x, _mm512_set1_ps(static_cast<float>(b.bins - 1)));
    __m512i s = _mm512_add_epi32(_mm512_cvttps_epi32(x), _mm512_set1_epi32(1));
    const __mmask16 inside = _mm512_cmp_ps_mask(v, _mm512_set1_ps(b.hi), _CMP_LE_OQ);
    const __mmask16 below = _mm512_cmp_ps_mask(v, _mm512_set1_ps(b.lo), _CMP_LT_OQ);
    s = _mm512_mask_mov_epi32(_mm512_set1_epi32(b.bins + 1), inside, s);
    return _mm512_mask_mov_epi32(s, below, _mm512_setzero_si512());
}

inline void weightSlotsAvx512(const float* values, int len, const BinScale& b, std::uint16_t* out) {
    for (int j = 0; j < len; j += 16) {
        const __mmask16 m = tailMask(len - j);
        const __m512i s = slots16(_mm512_maskz_loadu_ps(m, values + j), b);
        _mm256_mask_storeu_epi16(out + j, m, _mm512_cvtepi32_epi16(s));
    }
}

inline void errorSlotsAvx512(const float* in, const float* out, int len, const BinScale& b,
                             std::uint16_t* slotOut) {
    for (int j = 0; j < len; j += 16) {
        const __mmask16 m = tailMask(len - j);
        const __m512 e =
            _mm512_sub_ps(_mm512_maskz_loadu_ps(m, out + j), _mm512_maskz_loadu_ps(m, in + j));
        _mm256_mask_storeu_epi16(slotOut + j, m, _mm512_cvtepi32_epi16(slots16(e, b)));
    }
}
inline void sumsAvx512(const float* in, const float* out, int len, LaneSums& s) {
    __m512d sq = _mm512_loadu_pd(s.squares), se = _mm512_loadu_pd(s.errors);
    __m512d mx = _mm512_set1_pd(s.maxAbsError);
    long long zeros = 0, originalZeros = 0;
    for (int j = 0; j < len; j += 8) {
        const __mmask8 m = len - j >= 8 ? __mmask8(0xff) : __mmask8((1u << (len - j)) - 1u);
        const __m256 w32 = _mm256_maskz_loadu_ps(m, in + j),
                     o32 = _mm256_maskz_loadu_ps(m, out + j);
        const __m512d w = _mm512_cvtps_pd(w32);
        const __m512d d = _mm512_sub_pd(_mm512_cvtps_pd(o32), w);
        sq = _mm512_mask3_fmadd_pd(w, w, sq, m);
        se = _mm512_mask3_fmadd_pd(d, d, se, m);
        mx = _mm512_max_pd(_mm512_abs_pd(d), mx);
        zeros += std::popcount(static_cast<unsigned>(
            _mm256_mask_cmp_ps_mask(m, o32, _mm256_setzero_ps(), _CMP_EQ_OQ)));
        originalZeros += std::popcount(static_cast<unsigned>(
            _mm256_mask_cmp_ps_mask(m, w32, _mm256_setzero_ps(), _CMP_EQ_OQ)));
    }
    _mm512_storeu_pd(s.squares, sq);
    _mm512_storeu_pd(s.errors, se);
    s.maxAbsError = _mm512_reduce_max_pd(mx);
    s.zeros += zeros;
    s.originalZeros += originalZeros;
}

inline void codeIndicesAvx512(const float* codes, int len, float base, float top,
                              std::uint16_t* out) {
    for (int j = 0; j < len; j += 16) {
        const __mmask16 m = tailMask(len - j);
        __m512 x = _mm512_sub_ps(_mm512_maskz_loadu_ps(m, codes + j), _mm512_set1_ps(base));
        x = _mm512_max_ps(x, _mm512_setzero_ps());
        x = _mm512_min_ps(x, _mm512_set1_ps(top));
        _mm256_mask_storeu_epi16(out + j, m, _mm512_cvtepi32_epi16(_mm512_cvttps_epi32(x)));
    }
}
#endif

template <QuantKind Q, bool PerUnit, KeepRule::Kind K>
void values(const BlockParams& p, int len) {
#if CWB_FUSED_AVX512
    valuesAvx512<Q, PerUnit, K>(p, len);
#else
    valuesRef<Q, PerUnit, K>(p, len);
#endif
}

inline void weightSlots(const float* values, int len, const BinScale& b, std::uint16_t* out) {
#if CWB_FUSED_AVX512
    weightSlotsAvx512(values, len, b, out);
#else
    weightSlotsRef(values, len, b, out);
#endif
}

inline void errorSlots(const float* in, const float* out, int len, const BinScale& b,
                       std::uint16_t* slotsOut) {
#if CWB_FUSED_AVX512
    errorSlotsAvx512(in, out, len, b, slotsOut);
#else
    errorSlotsRef(in, out, len, b, slotsOut);
#endif
}

// Copies a block of results to the output. Full 64-byte lines go with streaming stores: the
// output is not read again during the pass, and streaming spares the read of each line
// before it is written (a third of the memory traffic). The caller fences at the end.
inline void storeBlock(float* dst, const float* src, int len) {
#if CWB_FUSED_AVX512
    if (reinterpret_cast<std::uintptr_t>(dst) % 64 == 0) {
        int j = 0;
        for (; j + 16 <= len; j += 16) _mm512_stream_ps(dst + j, _mm512_load_ps(src + j));
        for (; j < len; ++j) dst[j] = src[j];
        return;
    }
#endif
    for (int j = 0; j < len; ++j) dst[j] = src[j];
}

inline void storeFence() {
#if CWB_FUSED_AVX512
    _mm_sfence();
#endif
}

inline void sums(const float* in, const float* out, int len, LaneSums& s) {
#if CWB_FUSED_AVX512
    sumsAvx512(in, out, len, s);
#else
    sumsRef(in, out, len, s);
#endif
}

inline void codeIndices(const float* codes, int len, float base, float top, std::uint16_t* out) {
#if CWB_FUSED_AVX512
    codeIndicesAvx512(codes, len, base, top, out);
#else
    codeIndicesRef(codes, len, base, top, out);
#endif
}

}  // namespace cwb::fused

#if CWB_FUSED_AVX512
#if !defined(__clang__)
#pragma GCC diagnostic pop
#endif
#endif
