// The K formats' sub-block searches, a sub-block per AVX2 lane (see k_search_avx2.h). Each
// scalar statement of k_quant_search.cpp becomes the same float operation on eight lanes;
// its branches become masks, and a lane's loop runs to the end where the scalar one would
// have stopped only when that changes nothing (a converged coordinate descent pass).
#include "core/quant/k_search_avx2.h"

#include "core/quant/avx2_encode.h"

namespace cwb::quant::detail {
namespace {

using namespace avx2;

constexpr float kGroupMaxEps = 1e-15f;

// Groups of eight sub-blocks of N values: v[i * G + g] holds value i of group g's lanes.
template <int G, int N>
CWB_QUANT_AVX2 void loadLanes(const float* x, __m256* v) {
    for (int g = 0; g < G; ++g) {
        __m256 t[N];
        lanesOf(x + 8 * N * g, N, t);
        for (int i = 0; i < N; ++i) v[i * G + g] = t[i];
    }
}

CWB_QUANT_AVX2 inline __m256 blend(__m256 a, __m256 b, __m256 mask) {
    return _mm256_blendv_ps(a, b, mask);
}
CWB_QUANT_AVX2 inline bool any(__m256 mask) { return _mm256_movemask_ps(mask) != 0; }

// Lane values as floats, `codes` in natural order (sub-block s = 8 g + lane, value i) with
// `offset` added.
template <int G, int N, typename Code>
CWB_QUANT_AVX2 void storeCodes(const __m256* q, int offset, Code* codes) {
    alignas(32) float lanes[8];
    for (int g = 0; g < G; ++g)
        for (int i = 0; i < N; ++i) {
            _mm256_store_ps(lanes, q[i * G + g]);
            for (int k = 0; k < 8; ++k)
                codes[(8 * g + k) * N + i] = static_cast<Code>(static_cast<int>(lanes[k]) + offset);
        }
}

template <int G>
CWB_QUANT_AVX2 void storeLanes(const __m256* v, float* out) {
    for (int g = 0; g < G; ++g) _mm256_storeu_ps(out + 8 * g, v[g]);
}

// The value of largest magnitude per lane, signed, the first one on ties; its magnitude.
template <int G, int N>
CWB_QUANT_AVX2 void signedAbsMaxLanes(const __m256* xt, __m256* max, __m256* amax) {
    for (int g = 0; g < G; ++g) max[g] = amax[g] = _mm256_setzero_ps();
    for (int i = 0; i < N; ++i)
        for (int g = 0; g < G; ++g) {
            const __m256 a = absf(xt[i * G + g]);
            const __m256 up = _mm256_cmp_ps(amax[g], a, _CMP_LT_OQ);
            amax[g] = blend(amax[g], a, up);
            max[g] = blend(max[g], xt[i * G + g], up);
        }
}

// The weighted error of one value: absolute (Q2_K) or squared.
CWB_QUANT_AVX2 inline __m256 errorOf(bool absolute, __m256 diff) {
    return absolute ? absf(diff) : _mm256_mul_ps(diff, diff);
}

// Round-to-even equals nearest_int only below 2^22: the largest |iscale (x - min)| a lane
// can form with values in [lo, max], kept across trials.
CWB_QUANT_AVX2 inline __m256 reach(__m256 bound, __m256 iscale, __m256 max, __m256 lo, __m256 min) {
    const __m256 span = _mm256_max_ps(absf(_mm256_sub_ps(max, min)), absf(_mm256_sub_ps(lo, min)));
    return _mm256_max_ps(bound, _mm256_mul_ps(absf(iscale), span));
}

// make_qx_quants' sums for one trial scale per lane; |iscale x| <= nmax + 1 there, well
// inside round-to-even's exact range.
template <int G, int N>
CWB_QUANT_AVX2 void qxSums(const __m256* xt, const __m256* w, const __m256* wx,
                           const __m256* iscale, __m256 lo, __m256 hi, __m256* sumlx,
                           __m256* suml2) {
    // Local sums stay in registers (through the output pointers they would go to memory
    // on every addition).
    __m256 lx[G], l2[G], scale[G];
    for (int g = 0; g < G; ++g) {
        lx[g] = l2[g] = _mm256_setzero_ps();
        scale[g] = iscale[g];
    }
    for (int i = 0; i < N; ++i)
        for (int g = 0; g < G; ++g) {
            const int k = i * G + g;
            const __m256 l = nearestClampedSmall(_mm256_mul_ps(scale[g], xt[k]), lo, hi);
            lx[g] = _mm256_add_ps(lx[g], _mm256_mul_ps(wx[k], l));
            l2[g] = _mm256_add_ps(l2[g], _mm256_mul_ps(_mm256_mul_ps(w[k], l), l));
        }
    for (int g = 0; g < G; ++g) {
        sumlx[g] = lx[g];
        suml2[g] = l2[g];
    }
}

}  // namespace

template <int G, int N>
CWB_QUANT_AVX2 bool searchQkx2Avx2(const float* x, int nmax, float rmin, int nstep,
                                   bool absoluteError, float* scales, float* mins,
                                   std::uint8_t* codes) {
    constexpr float kRdelta = 0.1f;
    const __m256 zero = _mm256_setzero_ps(), fmax = _mm256_set1_ps(static_cast<float>(nmax));
    __m256 xt[N * G], wt[N * G], l[N * G];
    loadLanes<G, N>(x, xt);
    // The weights: Q2_K |x|; Q4_K and Q5_K av_x + |x| with av_x = sqrt(sum x^2 / 32).
    for (int g = 0; g < G; ++g) {
        __m256 avX = zero;
        if (!absoluteError) {
            __m256 sumX2 = zero;
            for (int i = 0; i < N; ++i)
                sumX2 = _mm256_add_ps(sumX2, _mm256_mul_ps(xt[i * G + g], xt[i * G + g]));
            avX = _mm256_sqrt_ps(_mm256_div_ps(sumX2, _mm256_set1_ps(32.f)));
        }
        for (int i = 0; i < N; ++i)
            wt[i * G + g] =
                absoluteError ? absf(xt[i * G + g]) : _mm256_add_ps(avX, absf(xt[i * G + g]));
    }

    __m256 min[G], max[G], lo[G], sumW[G], sumX[G], flat[G];
    for (int g = 0; g < G; ++g) {
        min[g] = max[g] = xt[g];
        sumW[g] = wt[g];
        sumX[g] = _mm256_mul_ps(sumW[g], xt[g]);
    }
    for (int i = 1; i < N; ++i)
        for (int g = 0; g < G; ++g) {
            const __m256 v = xt[i * G + g], w = wt[i * G + g];
            min[g] = _mm256_min_ps(v, min[g]);  // if (x < min) min = x
            max[g] = _mm256_max_ps(v, max[g]);
            sumW[g] = _mm256_add_ps(sumW[g], w);
            sumX[g] = _mm256_add_ps(sumX[g], _mm256_mul_ps(w, v));
        }
    __m256 iscale[G], scale[G], best[G], codeScale[G], codeMin[G], bound[G];
    for (int g = 0; g < G; ++g) {
        lo[g] = min[g];
        min[g] = blend(min[g], zero, _mm256_cmp_ps(min[g], zero, _CMP_GT_OQ));
        flat[g] = _mm256_cmp_ps(max[g], min[g], _CMP_EQ_OQ);
        iscale[g] = _mm256_div_ps(fmax, _mm256_sub_ps(max[g], min[g]));
        scale[g] = _mm256_div_ps(_mm256_set1_ps(1.f), iscale[g]);
        best[g] = zero;
        codeScale[g] = iscale[g];
        codeMin[g] = min[g];
        bound[g] = zero;
    }
    for (int g = 0; g < G; ++g) bound[g] = reach(bound[g], iscale[g], max[g], lo[g], min[g]);
    for (int i = 0; i < N; ++i)
        for (int g = 0; g < G; ++g) {
            const __m256 v = xt[i * G + g];
            const __m256 q =
                nearestClampedSmall(_mm256_mul_ps(iscale[g], _mm256_sub_ps(v, min[g])), zero, fmax);
            const __m256 diff = _mm256_sub_ps(_mm256_add_ps(_mm256_mul_ps(scale[g], q), min[g]), v);
            best[g] =
                _mm256_add_ps(best[g], _mm256_mul_ps(wt[i * G + g], errorOf(absoluteError, diff)));
        }

    for (int is = 0; is <= nstep; ++is) {
        const float numerator = rmin + kRdelta * static_cast<float>(is) + static_cast<float>(nmax);
        __m256 sumL[G], sumL2[G], sumXL[G];
        for (int g = 0; g < G; ++g) {
            iscale[g] = _mm256_div_ps(_mm256_set1_ps(numerator), _mm256_sub_ps(max[g], min[g]));
            bound[g] = reach(bound[g], iscale[g], max[g], lo[g], min[g]);
            sumL[g] = sumL2[g] = sumXL[g] = zero;
        }
        for (int i = 0; i < N; ++i)
            for (int g = 0; g < G; ++g) {
                const int k = i * G + g;
                l[k] = nearestClampedSmall(_mm256_mul_ps(iscale[g], _mm256_sub_ps(xt[k], min[g])),
                                           zero, fmax);
                const __m256 wl = _mm256_mul_ps(wt[k], l[k]);
                sumL[g] = _mm256_add_ps(sumL[g], wl);
                sumL2[g] = _mm256_add_ps(sumL2[g], _mm256_mul_ps(wl, l[k]));
                sumXL[g] = _mm256_add_ps(sumXL[g], _mm256_mul_ps(wl, xt[k]));
            }
        __m256 thisScale[G], thisMin[G], solvable[G];
        bool anySolvable = false;
        for (int g = 0; g < G; ++g) {
            const __m256 D =
                _mm256_sub_ps(_mm256_mul_ps(sumW[g], sumL2[g]), _mm256_mul_ps(sumL[g], sumL[g]));
            solvable[g] = _mm256_cmp_ps(D, zero, _CMP_GT_OQ);
            anySolvable = anySolvable || any(solvable[g]);
            thisScale[g] = _mm256_div_ps(
                _mm256_sub_ps(_mm256_mul_ps(sumW[g], sumXL[g]), _mm256_mul_ps(sumX[g], sumL[g])),
                D);
            thisMin[g] = _mm256_div_ps(
                _mm256_sub_ps(_mm256_mul_ps(sumL2[g], sumX[g]), _mm256_mul_ps(sumL[g], sumXL[g])),
                D);
            const __m256 positive = _mm256_cmp_ps(thisMin[g], zero, _CMP_GT_OQ);
            thisMin[g] = blend(thisMin[g], zero, positive);
            thisScale[g] = blend(thisScale[g], _mm256_div_ps(sumXL[g], sumL2[g]), positive);
        }
        if (!anySolvable) continue;
        __m256 e[G];
        for (int g = 0; g < G; ++g) e[g] = zero;
        for (int i = 0; i < N; ++i)
            for (int g = 0; g < G; ++g) {
                const int k = i * G + g;
                const __m256 diff = _mm256_sub_ps(
                    _mm256_add_ps(_mm256_mul_ps(thisScale[g], l[k]), thisMin[g]), xt[k]);
                e[g] = _mm256_add_ps(e[g], _mm256_mul_ps(wt[k], errorOf(absoluteError, diff)));
            }
        for (int g = 0; g < G; ++g) {
            const __m256 better =
                _mm256_and_ps(solvable[g], _mm256_cmp_ps(e[g], best[g], _CMP_LT_OQ));
            best[g] = blend(best[g], e[g], better);
            scale[g] = blend(scale[g], thisScale[g], better);
            codeScale[g] = blend(codeScale[g], iscale[g], better);
            codeMin[g] = blend(codeMin[g], min[g], better);
            min[g] = blend(min[g], thisMin[g], better);
        }
    }

    const __m256 limit = _mm256_set1_ps(2097152.f);  // 2^21
    for (int g = 0; g < G; ++g) {
        // A flat sub-block: codes 0, scale 0, its minimum as clamped.
        if (_mm256_movemask_ps(_mm256_or_ps(flat[g], _mm256_cmp_ps(bound[g], limit, _CMP_LT_OQ))) !=
            0xff)
            return false;
        scale[g] = blend(scale[g], zero, flat[g]);
        codeScale[g] = blend(codeScale[g], zero, flat[g]);
        codeMin[g] = blend(codeMin[g], min[g], flat[g]);
        min[g] = _mm256_xor_ps(min[g], _mm256_set1_ps(-0.0f));  // *theMin = -min
    }
    storeLanes<G>(scale, scales);
    storeLanes<G>(min, mins);
    if (codes) {
        for (int i = 0; i < N; ++i)
            for (int g = 0; g < G; ++g) {
                const int k = i * G + g;
                l[k] = nearestClampedSmall(
                    _mm256_mul_ps(codeScale[g], _mm256_sub_ps(xt[k], codeMin[g])), zero, fmax);
            }
        storeCodes<G, N>(l, 0, codes);
    }
    return true;
}

template bool searchQkx2Avx2<1, 32>(const float*, int, float, int, bool, float*, float*,
                                    std::uint8_t*);
template bool searchQkx2Avx2<2, 32>(const float*, int, float, int, bool, float*, float*,
                                    std::uint8_t*);
template bool searchQkx2Avx2<2, 16>(const float*, int, float, int, bool, float*, float*,
                                    std::uint8_t*);

CWB_QUANT_AVX2 void searchQxAvx2(const float* x, int nmax, float* scales, std::int8_t* codes) {
    constexpr int G = 2, N = 16;
    const __m256 lo = _mm256_set1_ps(static_cast<float>(-nmax)),
                 hi = _mm256_set1_ps(static_cast<float>(nmax - 1)), zero = _mm256_setzero_ps();
    const float fmax = static_cast<float>(nmax);
    __m256 xt[N * G], w[N * G], wx[N * G], max[G], amax[G];
    loadLanes<G, N>(x, xt);
    signedAbsMaxLanes<G, N>(xt, max, amax);
    for (int k = 0; k < N * G; ++k) {
        w[k] = _mm256_mul_ps(xt[k], xt[k]);
        wx[k] = _mm256_mul_ps(w[k], xt[k]);
    }
    __m256 iscale[G], codeScale[G], scale[G], best[G], sumlx[G], suml2[G];
    for (int g = 0; g < G; ++g)
        iscale[g] = codeScale[g] = _mm256_div_ps(_mm256_set1_ps(-fmax), max[g]);
    qxSums<G, N>(xt, w, wx, iscale, lo, hi, sumlx, suml2);
    for (int g = 0; g < G; ++g) {
        scale[g] = blend(zero, _mm256_div_ps(sumlx[g], suml2[g]),
                         _mm256_cmp_ps(suml2[g], zero, _CMP_NEQ_UQ));
        best[g] = _mm256_mul_ps(scale[g], sumlx[g]);
    }
    for (int is = -9; is <= 9; ++is) {
        if (is == 0) continue;
        const float numerator = -(fmax + 0.1f * static_cast<float>(is));
        for (int g = 0; g < G; ++g) iscale[g] = _mm256_div_ps(_mm256_set1_ps(numerator), max[g]);
        qxSums<G, N>(xt, w, wx, iscale, lo, hi, sumlx, suml2);
        for (int g = 0; g < G; ++g) {
            const __m256 better =
                _mm256_and_ps(_mm256_cmp_ps(suml2[g], zero, _CMP_GT_OQ),
                              _mm256_cmp_ps(_mm256_mul_ps(sumlx[g], sumlx[g]),
                                            _mm256_mul_ps(best[g], suml2[g]), _CMP_GT_OQ));
            const __m256 s = _mm256_div_ps(sumlx[g], suml2[g]);
            scale[g] = blend(scale[g], s, better);
            best[g] = blend(best[g], _mm256_mul_ps(s, sumlx[g]), better);
            codeScale[g] = blend(codeScale[g], iscale[g], better);
        }
    }
    __m256 small[G];
    for (int g = 0; g < G; ++g) {
        small[g] = _mm256_cmp_ps(amax[g], _mm256_set1_ps(kGroupMaxEps), _CMP_LT_OQ);
        scale[g] = blend(scale[g], zero, small[g]);
    }
    storeLanes<G>(scale, scales);
    if (!codes) return;
    __m256 q[N * G];
    const __m256 offset = _mm256_set1_ps(fmax);
    for (int i = 0; i < N; ++i)
        for (int g = 0; g < G; ++g) {
            const int k = i * G + g;
            const __m256 l = nearestClampedSmall(_mm256_mul_ps(codeScale[g], xt[k]), lo, hi);
            q[k] = blend(_mm256_add_ps(l, offset), zero, small[g]);
        }
    storeCodes<G, N>(q, 0, codes);
}

CWB_QUANT_AVX2 void searchQ3Avx2(const float* x, int nmax, float* scales, std::int8_t* codes) {
    constexpr int G = 2, N = 16;
    const __m256 lo = _mm256_set1_ps(static_cast<float>(-nmax)),
                 hi = _mm256_set1_ps(static_cast<float>(nmax - 1)), zero = _mm256_setzero_ps();
    __m256 xt[N * G], w[N * G], wx[N * G], l[N * G], max[G], amax[G];
    loadLanes<G, N>(x, xt);
    signedAbsMaxLanes<G, N>(xt, max, amax);
    __m256 iscale[G], sumlx[G], suml2[G];
    for (int g = 0; g < G; ++g) {
        iscale[g] = _mm256_div_ps(_mm256_set1_ps(-static_cast<float>(nmax)), max[g]);
        sumlx[g] = suml2[g] = zero;
    }
    for (int i = 0; i < N; ++i)
        for (int g = 0; g < G; ++g) {
            const int k = i * G + g;
            l[k] = nearestClampedSmall(_mm256_mul_ps(iscale[g], xt[k]), lo, hi);
            w[k] = _mm256_mul_ps(xt[k], xt[k]);
            wx[k] = _mm256_mul_ps(w[k], xt[k]);
            sumlx[g] = _mm256_add_ps(sumlx[g], _mm256_mul_ps(wx[k], l[k]));
            suml2[g] = _mm256_add_ps(suml2[g], _mm256_mul_ps(_mm256_mul_ps(w[k], l[k]), l[k]));
        }
    // Coordinate descent. A lane whose pass changed nothing would change nothing in the next
    // one either, so running every lane until none changes gives each lane's scalar result.
    for (int pass = 0; pass < 5; ++pass) {
        __m256 changed = zero;
        for (int i = 0; i < N; ++i)
            for (int g = 0; g < G; ++g) {
                const int k = i * G + g;
                const __m256 li = l[k];
                const __m256 slx = _mm256_sub_ps(sumlx[g], _mm256_mul_ps(wx[k], li));
                const __m256 sl2 =
                    _mm256_sub_ps(suml2[g], _mm256_mul_ps(_mm256_mul_ps(w[k], li), li));
                // x sl2 / slx may be huge: nearest_int's exact bits, as the scalar code.
                const __m256 next =
                    nearestClamped(_mm256_div_ps(_mm256_mul_ps(xt[k], sl2), slx), -nmax, nmax - 1);
                const __m256 slxNext = _mm256_add_ps(slx, _mm256_mul_ps(wx[k], next));
                const __m256 sl2Next =
                    _mm256_add_ps(sl2, _mm256_mul_ps(_mm256_mul_ps(w[k], next), next));
                __m256 take = _mm256_and_ps(_mm256_cmp_ps(slx, zero, _CMP_GT_OQ),
                                            _mm256_cmp_ps(next, li, _CMP_NEQ_UQ));
                take = _mm256_and_ps(take, _mm256_cmp_ps(sl2Next, zero, _CMP_GT_OQ));
                take = _mm256_and_ps(
                    take, _mm256_cmp_ps(_mm256_mul_ps(_mm256_mul_ps(slxNext, slxNext), suml2[g]),
                                        _mm256_mul_ps(_mm256_mul_ps(sumlx[g], sumlx[g]), sl2Next),
                                        _CMP_GT_OQ));
                l[k] = blend(li, next, take);
                sumlx[g] = blend(sumlx[g], slxNext, take);
                suml2[g] = blend(suml2[g], sl2Next, take);
                changed = _mm256_or_ps(changed, take);
            }
        if (!any(changed)) break;
    }
    __m256 small[G], scale[G];
    for (int g = 0; g < G; ++g) {
        small[g] = _mm256_cmp_ps(amax[g], _mm256_set1_ps(kGroupMaxEps), _CMP_LT_OQ);
        scale[g] = blend(_mm256_div_ps(sumlx[g], suml2[g]), zero, small[g]);
    }
    storeLanes<G>(scale, scales);
    if (!codes) return;
    const __m256 offset = _mm256_set1_ps(static_cast<float>(nmax));
    for (int i = 0; i < N; ++i)
        for (int g = 0; g < G; ++g)
            l[i * G + g] = blend(_mm256_add_ps(l[i * G + g], offset), zero, small[g]);
    storeCodes<G, N>(l, 0, codes);
}

}  // namespace cwb::quant::detail
