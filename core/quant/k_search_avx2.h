// The K formats' sub-block searches (k_quant_search.h) on eight sub-blocks at once, one per
// AVX2 lane (internal to core/quant). Each lane runs the reference's loop in the reference's
// order of float operations, so its sums round as the scalar ones do and it picks the same
// scale: the vector is only across sub-blocks, never inside a sum. Sub-block s = 8 g + lane
// of group g holds values x[s * N + i], i < N.
#pragma once

#include <cstdint>

#include "core/quant/simd_target.h"

namespace cwb::quant::detail {

// make_qkx2_quants on 8 G sub-blocks of N values with weights av_x + |x| (Q4_K, Q5_K; N 32)
// or |x| (Q2_K; N 16, absolute error): scales[s] and mins[s] (the negated minimum), and where
// `codes` is not null the search's codes in [0, nmax]. False when a lane's products could
// leave the range where round-to-even is nearest_int (then use the scalar search).
template <int G, int N>
CWB_QUANT_AVX2 bool searchQkx2Avx2(const float* x, int nmax, float rmin, int nstep,
                                   bool absoluteError, float* scales, float* mins,
                                   std::uint8_t* codes);

// make_qx_quants (Q6_K: nmax 32) and make_q3_quants (Q3_K: nmax 4) on 16 sub-blocks of 16:
// scales[s] and, where `codes` is not null, the codes with nmax added (0 for a sub-block of
// all but zero values, as the scalar searches leave them).
void searchQxAvx2(const float* x, int nmax, float* scales, std::int8_t* codes);
void searchQ3Avx2(const float* x, int nmax, float* scales, std::int8_t* codes);

}  // namespace cwb::quant::detail
