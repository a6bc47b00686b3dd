// The searches llama.cpp's K-format reference quantizers use to choose a sub-block's scale
// (and minimum) without an importance matrix. Internal to core/quant.
#pragma once

#include <cstdint>

namespace cwb::quant::detail {

// make_qx_quants with rmse_type 1 (weights x^2) and no importance: symmetric codes in
// [0, 2 nmax) for n values, the scale returned. All-zero input gives codes 0 and scale 0.
float makeQxQuants(int n, int nmax, const float* x, std::int8_t* codes);

// make_q3_quants with do_rmse: codes in [0, 2 nmax) refined by coordinate descent.
float makeQ3Quants(int n, int nmax, const float* x, std::int8_t* codes);

// make_qkx2_quants: codes in [0, nmax] with a scale and a minimum (returned negated in
// *theMin), searching nstep + 1 scales from (nmax + rmin) to (nmax + rmin + nstep * rdelta)
// over the range; error weighted by `weights`, absolute (useMad) or squared.
float makeQkx2Quants(int n, int nmax, const float* x, const float* weights, std::uint8_t* codes,
                     float* theMin, float rmin, float rdelta, int nstep, bool useMad);

}  // namespace cwb::quant::detail
