// The shared first half of the 32-value formats' vector encoders (internal to core/quant):
// blocks go eight at a time, each block's extremes reduced together, then the eight scales
// with vector divisions and fp16 conversions (the same IEEE operations as the reference's
// scalar ones). legacy_encode_avx2.cpp codes the blocks with AVX2, legacy_error_avx512.cpp
// measures their error with AVX-512; both start from these scales.
#pragma once

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstdint>

#include "core/model/dtype.h"
#include "core/quant/avx2_encode.h"
#include "core/quant/block_formats.h"
#include "core/quant/block_layouts.h"

namespace cwb::quant::detail::legacy {

using namespace avx2;

enum class Rule { Q4_0, Q4_1, Q5_0, Q5_1, Q8_0 };

// The scales of up to eight blocks: lane k for block k.
struct Scales {
    alignas(32) float id[8], dv[8], mv[8], lo[8];
    alignas(16) std::uint16_t d[8], m[8];
};

// The value of largest magnitude, signed, the first one on ties (kernels.h's signedAbsMax),
// where the block's greatest value `hi` and least `lo` have the same magnitude: 0 (the
// reference never takes a zero: +0), or the first of +hi and -hi in the block.
inline float signedMax(const float* x, float hi, float lo) {
    if (hi == 0.f && lo == 0.f) return 0.f;
    for (int j = 0; j < kQK; ++j)
        if (std::fabs(x[j]) == hi) return x[j];
    return hi;
}

// The block's minimum and maximum by the reference's sequential scan.
inline void scanMinMax(const float* x, float& lo, float& hi) {
    lo = FLT_MAX, hi = -FLT_MAX;
    for (int j = 0; j < kQK; ++j) {
        if (x[j] < lo) lo = x[j];
        if (x[j] > hi) hi = x[j];
    }
}

CWB_QUANT_AVX2 inline __m256 inverse(__m256 d) {
    const __m256 zero = _mm256_setzero_ps();
    return _mm256_blendv_ps(_mm256_div_ps(_mm256_set1_ps(1.0f), d), zero,
                            _mm256_cmp_ps(d, zero, _CMP_EQ_OQ));
}

CWB_QUANT_AVX2 inline __m128i toHalves(__m256 v) {
    return _mm256_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
}

// Eight blocks' scales: d = amax / 127, max / -half or (max - min) / top, id = 1 / d (0 for
// d = 0), d (and the minimum) rounded to fp16 as stored.
template <Rule R>
CWB_QUANT_AVX2 void scales(const float* a, const float* b, Scales& s) {
    const __m256 va = _mm256_loadu_ps(a);
    __m256 d;
    if constexpr (R == Rule::Q8_0)
        d = _mm256_div_ps(va, _mm256_set1_ps(127.f));
    else if constexpr (R == Rule::Q4_0)
        d = _mm256_div_ps(va, _mm256_set1_ps(-8.f));
    else if constexpr (R == Rule::Q5_0)
        d = _mm256_div_ps(va, _mm256_set1_ps(-16.f));
    else
        d = _mm256_div_ps(_mm256_sub_ps(_mm256_loadu_ps(b), va),
                          _mm256_set1_ps(R == Rule::Q4_1 ? 15.f : 31.f));
    _mm256_store_ps(s.id, inverse(d));
    const __m128i dh = toHalves(d);
    _mm_store_si128(reinterpret_cast<__m128i*>(s.d), dh);
    _mm256_store_ps(s.dv, _mm256_cvtph_ps(dh));
    if constexpr (R == Rule::Q4_1 || R == Rule::Q5_1) {
        const __m128i mh = toHalves(va);
        _mm_store_si128(reinterpret_cast<__m128i*>(s.m), mh);
        _mm256_store_ps(s.mv, _mm256_cvtph_ps(mh));
        _mm256_store_ps(s.lo, va);
    }
}

// Eight vectors to one: lane k holds the max (min) of vector k's lanes. 21 operations for
// eight blocks, where eight horizontal reductions take 48.
template <bool Max>
CWB_QUANT_AVX2 inline __m256 pick(__m256 a, __m256 b) {
    return Max ? _mm256_max_ps(a, b) : _mm256_min_ps(a, b);
}
template <bool Max>
CWB_QUANT_AVX2 inline __m256 reduce8(const __m256 (&v)[8]) {
    __m256 t[4], u[2];
    for (int k = 0; k < 4; ++k)
        t[k] = pick<Max>(_mm256_unpacklo_ps(v[2 * k], v[2 * k + 1]),
                         _mm256_unpackhi_ps(v[2 * k], v[2 * k + 1]));
    // t[k]: lanes (2k, 2k+1, 2k, 2k+1 | the same for the high half), each a pair's extreme
    for (int k = 0; k < 2; ++k)
        u[k] = pick<Max>(_mm256_shuffle_ps(t[2 * k], t[2 * k + 1], 0x44),
                         _mm256_shuffle_ps(t[2 * k], t[2 * k + 1], 0xee));
    // u[k]: lanes (4k .. 4k+3 | 4k .. 4k+3) over each 128-bit half
    return pick<Max>(_mm256_permute2f128_ps(u[0], u[1], 0x20),
                     _mm256_permute2f128_ps(u[0], u[1], 0x31));
}

// What up to eight finite blocks' scales come from: |max| (Q8_0), the signed max (Q4_0,
// Q5_0), or the minimum in `a` and maximum in `b` (Q4_1, Q5_1), from the greatest and least
// values of each block reduced together; 0 in the lanes of other blocks. Chosen in the
// vectors: a branch per block on which extreme wins mispredicts half the time on real
// weights. The rare lanes the extremes cannot settle (a tie in magnitude, a zero extreme)
// scan their block as the reference does.
template <Rule R>
CWB_QUANT_AVX2 void extremes8(const float* x, const __m256 (&hiV)[8], const __m256 (&loV)[8],
                              const bool* finite, int count, float* a, float* b) {
    const __m256 hi = reduce8<true>(hiV), lo = reduce8<false>(loV);
    const __m256 negLo = _mm256_xor_ps(lo, _mm256_set1_ps(-0.0f));
    int live = 0;
    for (int k = 0; k < count; ++k) live |= finite[k] ? 1 << k : 0;
    const __m256i bit = _mm256_setr_epi32(1, 2, 4, 8, 16, 32, 64, 128);
    const __m256 liveLanes = _mm256_castsi256_ps(
        _mm256_cmpeq_epi32(_mm256_and_si256(_mm256_set1_epi32(live), bit), bit));
    int unsettled = 0;  // lanes to scan
    if constexpr (R == Rule::Q8_0) {
        // |std::max(hi, -lo)|: the two differ only in a zero's sign where they tie.
        _mm256_storeu_ps(a, _mm256_and_ps(absf(_mm256_max_ps(hi, negLo)), liveLanes));
    } else if constexpr (R == Rule::Q4_0 || R == Rule::Q5_0) {
        const __m256 hiWins = _mm256_cmp_ps(hi, negLo, _CMP_GT_OQ);
        const __m256 loWins = _mm256_cmp_ps(negLo, hi, _CMP_GT_OQ);
        _mm256_storeu_ps(a, _mm256_and_ps(_mm256_blendv_ps(lo, hi, hiWins), liveLanes));
        unsettled = live & ~_mm256_movemask_ps(_mm256_or_ps(hiWins, loWins));
    } else {
        _mm256_storeu_ps(a, _mm256_and_ps(lo, liveLanes));
        _mm256_storeu_ps(b, _mm256_and_ps(hi, liveLanes));
        // -0 and +0 tie and the reference's scan keeps the first: look them up in order.
        const __m256 zero = _mm256_setzero_ps();
        unsettled = live & _mm256_movemask_ps(_mm256_or_ps(_mm256_cmp_ps(lo, zero, _CMP_EQ_OQ),
                                                           _mm256_cmp_ps(hi, zero, _CMP_EQ_OQ)));
    }
    if (!unsettled) return;
    alignas(32) float his[8], los[8];
    _mm256_store_ps(his, hi);
    _mm256_store_ps(los, lo);
    for (int k = 0; k < 8; ++k) {
        if (!(unsettled >> k & 1)) continue;
        if constexpr (R == Rule::Q4_0 || R == Rule::Q5_0)
            a[k] = signedMax(x + k * kQK, his[k], los[k]);
        else if constexpr (R == Rule::Q4_1 || R == Rule::Q5_1)
            scanMinMax(x + k * kQK, a[k], b[k]);
    }
}

// Up to eight blocks from x (the group's first `count`): each one's greatest and least value
// per lane (extremes8 reduces them) and whether it is finite. Returns count.
CWB_QUANT_AVX2 inline int loadGroup(const float* x, std::int64_t blocksLeft, __m256 (&hiV)[8],
                                    __m256 (&loV)[8], bool (&finite)[8]) {
    const int count = static_cast<int>(std::min<std::int64_t>(8, blocksLeft));
    for (int k = 0; k < 8; ++k) {
        finite[k] = false;
        if (k >= count) {
            hiV[k] = loV[k] = _mm256_setzero_ps();
            continue;
        }
        const float* xb = x + k * kQK;
        __m256 v[4], bad = _mm256_setzero_ps();
        for (int j = 0; j < 4; ++j) bad = nonFiniteBits(bad, v[j] = _mm256_loadu_ps(xb + 8 * j));
        finite[k] = allFinite(bad);
        hiV[k] = _mm256_max_ps(_mm256_max_ps(v[0], v[1]), _mm256_max_ps(v[2], v[3]));
        loV[k] = _mm256_min_ps(_mm256_min_ps(v[0], v[1]), _mm256_min_ps(v[2], v[3]));
    }
    return count;
}

// The group's scales under rule R.
template <Rule R>
CWB_QUANT_AVX2 void groupScales(const float* x, const __m256 (&hiV)[8], const __m256 (&loV)[8],
                                const bool* finite, int count, Scales& s) {
    alignas(32) float a[8] = {}, b[8] = {};
    extremes8<R>(x, hiV, loV, finite, count, a, b);
    scales<R>(a, b, s);
}

inline Rule ruleOf(DType type) {
    switch (type) {
        case DType::Q4_0:
            return Rule::Q4_0;
        case DType::Q4_1:
            return Rule::Q4_1;
        case DType::Q5_0:
            return Rule::Q5_0;
        case DType::Q5_1:
            return Rule::Q5_1;
        default:
            return Rule::Q8_0;
    }
}

// groupScales for a rule known at run time.
CWB_QUANT_AVX2 inline void groupScalesOf(Rule r, const float* x, const __m256 (&hiV)[8],
                                         const __m256 (&loV)[8], const bool* finite, int count,
                                         Scales& s) {
    switch (r) {
        case Rule::Q4_0:
            return groupScales<Rule::Q4_0>(x, hiV, loV, finite, count, s);
        case Rule::Q4_1:
            return groupScales<Rule::Q4_1>(x, hiV, loV, finite, count, s);
        case Rule::Q5_0:
            return groupScales<Rule::Q5_0>(x, hiV, loV, finite, count, s);
        case Rule::Q5_1:
            return groupScales<Rule::Q5_1>(x, hiV, loV, finite, count, s);
        case Rule::Q8_0:
            return groupScales<Rule::Q8_0>(x, hiV, loV, finite, count, s);
    }
}

// What the multi-format error passes (AVX2 and AVX-512) share: up to five formats at a time,
// each group's loads and extremes once for all of them, and the reference's error for a
// block holding a NaN or an infinity.
constexpr int kMostFormats = 5;
struct FormatSet {
    const DType* types = nullptr;
    int count = 0;
    Rule rules[kMostFormats];
};

inline FormatSet formatSet(const DType* types, int count) {
    FormatSet f;
    f.types = types;
    f.count = std::min(kMostFormats, count);
    for (int r = 0; r < f.count; ++r) f.rules[r] = ruleOf(types[r]);
    return f;
}

// The group of up to eight blocks at x: which are finite, and each format's scales. Returns
// the blocks in the group.
CWB_QUANT_AVX2 inline int groupScalesFor(const FormatSet& f, const float* x,
                                         std::int64_t blocksLeft, bool (&finite)[8],
                                         Scales* scales) {
    __m256 hiV[8], loV[8];
    const int count = loadGroup(x, blocksLeft, hiV, loV, finite);
    for (int r = 0; r < f.count; ++r)
        groupScalesOf(f.rules[r], x, hiV, loV, finite, count, scales[r]);
    return count;
}

inline void addReferenceErrors(const FormatSet& f, const float* block, double* fallback) {
    for (int r = 0; r < f.count; ++r)
        fallback[r] +=
            blockFormat(f.types[r]).squaredError[static_cast<int>(Isa::Scalar)](block, kQK);
}

}  // namespace cwb::quant::detail::legacy
