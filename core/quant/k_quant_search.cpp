// llama.cpp's scale searches for the K formats (see k_quant_search.h). Every expression keeps
// llama.cpp's order of float operations and is compiled without contraction, because a
// different rounding of one sum can pick another scale and change a block's bytes.
#include "core/quant/k_quant_search.h"

#include <algorithm>
#include <cmath>

#include "core/quant/kernels.h"

namespace cwb::quant::detail {
namespace {

constexpr float kGroupMaxEps = 1e-15f;

int clampCode(int l, int lo, int hi) { return std::max(lo, std::min(hi, l)); }

}  // namespace

float makeQxQuants(int n, int nmax, const float* x, std::int8_t* codes) {
    float amax;
    const float max = signedAbsMax(x, n, amax);
    if (amax < kGroupMaxEps) {
        std::fill(codes, codes + n, std::int8_t{0});
        return 0.f;
    }
    const float fmax = static_cast<float>(nmax);
    float iscale = -fmax / max;
    float sumlx = 0, suml2 = 0;
    for (int i = 0; i < n; ++i) {
        const int l = clampCode(nearestInt(iscale * x[i]), -nmax, nmax - 1);
        codes[i] = static_cast<std::int8_t>(l + nmax);
        const float w = x[i] * x[i];
        sumlx += w * x[i] * static_cast<float>(l);
        suml2 += w * static_cast<float>(l) * static_cast<float>(l);
    }
    float scale = suml2 != 0.f ? sumlx / suml2 : 0.0f;
    float best = scale * sumlx;
    for (int is = -9; is <= 9; ++is) {
        if (is == 0) continue;
        iscale = -(fmax + 0.1f * static_cast<float>(is)) / max;
        sumlx = suml2 = 0;
        for (int i = 0; i < n; ++i) {
            const float l =
                static_cast<float>(clampCode(nearestInt(iscale * x[i]), -nmax, nmax - 1));
            const float w = x[i] * x[i];
            sumlx += w * x[i] * l;
            suml2 += w * l * l;
        }
        if (suml2 > 0 && sumlx * sumlx > best * suml2) {
            for (int i = 0; i < n; ++i)
                codes[i] = static_cast<std::int8_t>(
                    nmax + clampCode(nearestInt(iscale * x[i]), -nmax, nmax - 1));
            scale = sumlx / suml2;
            best = scale * sumlx;
        }
    }
    return scale;
}

float makeQ3Quants(int n, int nmax, const float* x, std::int8_t* codes) {
    float amax;
    const float max = signedAbsMax(x, n, amax);
    if (amax < kGroupMaxEps) {
        std::fill(codes, codes + n, std::int8_t{0});
        return 0.f;
    }
    const float iscale = -static_cast<float>(nmax) / max;
    float sumlx = 0, suml2 = 0;
    for (int i = 0; i < n; ++i) {
        const int l = clampCode(nearestInt(iscale * x[i]), -nmax, nmax - 1);
        codes[i] = static_cast<std::int8_t>(l);
        const float w = x[i] * x[i];
        sumlx += w * x[i] * static_cast<float>(l);
        suml2 += w * static_cast<float>(l) * static_cast<float>(l);
    }
    // Coordinate descent: move one code at a time to where it lowers the weighted error.
    for (int pass = 0; pass < 5; ++pass) {
        int changed = 0;
        for (int i = 0; i < n; ++i) {
            const float w = x[i] * x[i];
            const float li = static_cast<float>(codes[i]);
            float slx = sumlx - w * x[i] * li;
            if (slx > 0) {
                float sl2 = suml2 - w * li * li;
                const int next = clampCode(nearestInt(x[i] * sl2 / slx), -nmax, nmax - 1);
                if (next != codes[i]) {
                    const float ln = static_cast<float>(next);
                    slx += w * x[i] * ln;
                    sl2 += w * ln * ln;
                    if (sl2 > 0 && slx * slx * suml2 > sumlx * sumlx * sl2) {
                        codes[i] = static_cast<std::int8_t>(next);
                        sumlx = slx;
                        suml2 = sl2;
                        ++changed;
                    }
                }
            }
        }
        if (!changed) break;
    }
    for (int i = 0; i < n; ++i) codes[i] = static_cast<std::int8_t>(codes[i] + nmax);
    return sumlx / suml2;
}

float makeQkx2Quants(int n, int nmax, const float* x, const float* weights, std::uint8_t* codes,
                     float* theMin, float rmin, float rdelta, int nstep, bool useMad) {
    float min = x[0], max = x[0];
    float sumW = weights[0];
    float sumX = sumW * x[0];
    for (int i = 1; i < n; ++i) {
        if (x[i] < min) min = x[i];
        if (x[i] > max) max = x[i];
        sumW += weights[i];
        sumX += weights[i] * x[i];
    }
    if (min > 0) min = 0;
    if (max == min) {
        std::fill(codes, codes + n, std::uint8_t{0});
        *theMin = -min;
        return 0.f;
    }
    const float fmax = static_cast<float>(nmax);
    auto error = [useMad](float diff) { return useMad ? std::fabs(diff) : diff * diff; };
    float iscale = fmax / (max - min);
    float scale = 1 / iscale;
    float bestError = 0;
    for (int i = 0; i < n; ++i) {
        codes[i] = static_cast<std::uint8_t>(clampCode(nearestInt(iscale * (x[i] - min)), 0, nmax));
        bestError += weights[i] * error(scale * static_cast<float>(codes[i]) + min - x[i]);
    }
    std::uint8_t trial[256];
    for (int is = 0; is <= nstep; ++is) {
        iscale = (rmin + rdelta * static_cast<float>(is) + fmax) / (max - min);
        float sumL = 0, sumL2 = 0, sumXL = 0;
        for (int i = 0; i < n; ++i) {
            const int l = clampCode(nearestInt(iscale * (x[i] - min)), 0, nmax);
            trial[i] = static_cast<std::uint8_t>(l);
            const float w = weights[i], fl = static_cast<float>(l);
            sumL += w * fl;
            sumL2 += w * fl * fl;
            sumXL += w * fl * x[i];
        }
        const float D = sumW * sumL2 - sumL * sumL;
        if (D > 0) {
            float thisScale = (sumW * sumXL - sumX * sumL) / D;
            float thisMin = (sumL2 * sumX - sumL * sumXL) / D;
            if (thisMin > 0) {
                thisMin = 0;
                thisScale = sumXL / sumL2;
            }
            float e = 0;
            for (int i = 0; i < n; ++i)
                e += weights[i] * error(thisScale * static_cast<float>(trial[i]) + thisMin - x[i]);
            if (e < bestError) {
                std::copy(trial, trial + n, codes);
                bestError = e;
                scale = thisScale;
                min = thisMin;
            }
        }
    }
    *theMin = -min;
    return scale;
}

}  // namespace cwb::quant::detail
