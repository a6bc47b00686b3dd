// llama.cpp's reference K-format encoders on a GPU (used by block_pass.cu), one thread per
// sub-block: here what they share and the formats with sub-blocks of 32, Q4_K and Q5_K (eight
// lanes a super-block of 256); k_blocks_16.cuh has Q2_K, Q3_K and Q6_K (sixteen lanes). Each
// thread runs its format's search (core/quant/k_quant_search.cpp) with its sums in the
// reference's order, then the lanes share the super-block's stored scales (core/quant/
// k_blocks_32.cpp, k_blocks_16.cpp) and each codes its values against them. Every float
// operation is an IEEE intrinsic in the CPU's order and nothing is contracted, so the bytes are
// quant::quantizeRow's.
#pragma once

#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include "core/quant/block_layouts.h"

namespace cwb::cuda {
namespace {

constexpr int kSuperValues = 256;  // values of a K-format super-block
constexpr unsigned kAllLanes = 0xffffffffu;

__device__ inline unsigned short halfBits(float x) { return __half_as_ushort(__float2half_rn(x)); }
__device__ inline float halfValue(unsigned short bits) {
    return __half2float(__ushort_as_half(bits));
}

// The value of largest magnitude over groups of Width lanes (the first lane on ties; 0 when all
// are 0 or NaN), as the reference's signedAbsMax; `amax` takes its magnitude.
template <int Width>
__device__ inline float signedAbsMax(float x, int lane, float& amax) {
    float best = fabsf(x);
    best = best == best ? best : -1.f;  // NaN is never the maximum
    int at = lane;
    for (int o = Width / 2; o > 0; o >>= 1) {
        const float b = __shfl_xor_sync(kAllLanes, best, o);
        const int a = __shfl_xor_sync(kAllLanes, at, o);
        if (b > best || (b == best && a < at)) {
            best = b;
            at = a;
        }
    }
    const float winner = __shfl_sync(kAllLanes, x, at);
    amax = best > 0.f ? best : 0.f;
    return best > 0.f ? winner : 0.f;
}

// The reference's nearestInt: round to nearest even through the 1.5 * 2^23 shift (valid below
// 2^22 in magnitude; the same bits as the CPU's beyond).
__device__ inline int nearestIntK(float x) {
    return (__float_as_int(__fadd_rn(x, 12582912.f)) & 0x007fffff) - 0x00400000;
}

// The largest of each group of Width lanes (xor Width / 2 ... 1 stays within the group).
template <int Width>
__device__ inline float groupMax(float v) {
    for (int o = Width / 2; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(kAllLanes, v, o));
    return v;
}
template <int Width>
__device__ inline unsigned groupOr(unsigned v) {
    for (int o = Width / 2; o > 0; o >>= 1) v |= __shfl_xor_sync(kAllLanes, v, o);
    return v;
}

// 16 bytes from four words at an address of any alignment (blocks of 84, 110 or 210 bytes).
__device__ inline void storeBytes(const unsigned (&w)[4], unsigned char* at) {
#pragma unroll
    for (int b = 0; b < 16; ++b) at[b] = static_cast<unsigned char>(w[b / 4] >> (8 * (b % 4)));
}

// ---- make_qkx2_quants: Q2_K, Q4_K and Q5_K

// A search code: clamp(nearestInt(iscale * (x - low)), 0, Nmax).
template <int Nmax>
__device__ inline int searchCode(float iscale, float x, float low) {
    return max(0, min(Nmax, nearestIntK(__fmul_rn(iscale, __fsub_rn(x, low)))));
}

// weight * err(scale * code + low - x), a term of the search's error: |d| (Mad) or d^2.
template <bool Mad>
__device__ inline float weightedError(float weight, float scale, int code, float low, float x) {
    const float diff = __fsub_rn(__fadd_rn(__fmul_rn(scale, static_cast<float>(code)), low), x);
    return __fmul_rn(weight, Mad ? fabsf(diff) : __fmul_rn(diff, diff));
}

// The outcome of a sub-block's search: its scale and negated minimum, and the rule that gave
// its codes (searchCode(iscale, x, codeMin)), kept for sub-blocks whose stored scale is 0.
struct SubSearch {
    float scale, theMin, iscale, codeMin;
};

// A format's search: N values, codes 0..Nmax, trial scales (Nmax + rmin + 0.1 is) / range for
// is = 0..Steps, the absolute (Mad) or squared error weighted by av + |x|.
template <int N, int Nmax, int Steps, bool Mad>
struct ScaleMinRule {
    static constexpr int kN = N, kNmax = Nmax, kSteps = Steps;
    static constexpr bool kMad = Mad;
};

// make_qkx2_quants(N, Nmax, x, av + |x|, rmin, 0.1, Steps, Mad) of k_quant_search.cpp.
template <typename Rule>
__device__ inline SubSearch searchScaleMin(const float (&x)[Rule::kN], float av, float rmin) {
    constexpr int N = Rule::kN, Nmax = Rule::kNmax;
    constexpr float fmax = static_cast<float>(Nmax);
    float lo = x[0], hi = x[0];
    float sumW = __fadd_rn(av, fabsf(x[0]));
    float sumX = __fmul_rn(sumW, x[0]);
#pragma unroll
    for (int i = 1; i < N; ++i) {
        if (x[i] < lo) lo = x[i];
        if (x[i] > hi) hi = x[i];
        const float w = __fadd_rn(av, fabsf(x[i]));
        sumW = __fadd_rn(sumW, w);
        sumX = __fadd_rn(sumX, __fmul_rn(w, x[i]));
    }
    if (lo > 0.f) lo = 0.f;
    if (hi == lo) return {0.f, -lo, 0.f, 0.f};  // codes 0
    SubSearch s{0.f, 0.f, __fdiv_rn(fmax, __fsub_rn(hi, lo)), lo};
    s.scale = __fdiv_rn(1.f, s.iscale);
    float best = 0.f;
#pragma unroll
    for (int l = 0; l < N; ++l)
        best = __fadd_rn(best,
                         weightedError<Rule::kMad>(__fadd_rn(av, fabsf(x[l])), s.scale,
                                                   searchCode<Nmax>(s.iscale, x[l], lo), lo, x[l]));
#pragma unroll 1
    for (int is = 0; is <= Rule::kSteps; ++is) {
        const float iscale =
            __fdiv_rn(__fadd_rn(__fadd_rn(rmin, __fmul_rn(0.1f, static_cast<float>(is))), fmax),
                      __fsub_rn(hi, lo));
        float sumL = 0.f, sumL2 = 0.f, sumXL = 0.f;
#pragma unroll
        for (int l = 0; l < N; ++l) {
            const float fl = static_cast<float>(searchCode<Nmax>(iscale, x[l], lo));
            const float wl = __fmul_rn(__fadd_rn(av, fabsf(x[l])), fl);
            sumL = __fadd_rn(sumL, wl);
            sumL2 = __fadd_rn(sumL2, __fmul_rn(wl, fl));
            sumXL = __fadd_rn(sumXL, __fmul_rn(wl, x[l]));
        }
        const float D = __fsub_rn(__fmul_rn(sumW, sumL2), __fmul_rn(sumL, sumL));
        if (!(D > 0.f)) continue;
        float scale = __fdiv_rn(__fsub_rn(__fmul_rn(sumW, sumXL), __fmul_rn(sumX, sumL)), D);
        float m = __fdiv_rn(__fsub_rn(__fmul_rn(sumL2, sumX), __fmul_rn(sumL, sumXL)), D);
        if (m > 0.f) {
            m = 0.f;
            scale = __fdiv_rn(sumXL, sumL2);
        }
        float e = 0.f;
#pragma unroll
        for (int l = 0; l < N; ++l)
            e = __fadd_rn(e,
                          weightedError<Rule::kMad>(__fadd_rn(av, fabsf(x[l])), scale,
                                                    searchCode<Nmax>(iscale, x[l], lo), m, x[l]));
        if (e < best) {
            best = e;
            s = {scale, 0.f, iscale, lo};
            lo = m;  // the next trials measure from the new minimum, as the reference's do
        }
    }
    s.theMin = -lo;
    return s;
}

// A sub-block's stored scale and minimum: its values decode as scale * code - min.
struct StoredScales {
    float scale, min;
};

// The final code of a value: against the stored scales, or the search's where that scale is 0.
template <int Nmax>
__device__ inline int finalCode(const StoredScales& st, const SubSearch& s, float x) {
    if (st.scale == 0.f) return searchCode<Nmax>(s.iscale, x, s.codeMin);
    return max(0, min(Nmax, nearestIntK(__fdiv_rn(__fadd_rn(x, st.min), st.scale))));
}

// ---- Q4_K and Q5_K

// The super-block's 6-bit scales and minima against their maxima (lane j of eight holds
// sub-block j's search), as scalesScaleMin and packScaleMinK4 of the CPU; `header` takes the
// super-block's first 16 bytes (d, dmin, packed scales), the same in every lane.
__device__ inline StoredScales storeScales(const SubSearch& s, int j, unsigned (&header)[4]) {
    const float maxScale = groupMax<8>(s.scale > 0.f ? s.scale : 0.f);
    const float maxMin = groupMax<8>(s.theMin > 0.f ? s.theMin : 0.f);
    const float invScale = maxScale > 0.f ? __fdiv_rn(63.f, maxScale) : 0.f;
    const float invMin = maxMin > 0.f ? __fdiv_rn(63.f, maxMin) : 0.f;
    const unsigned ls = min(63, nearestIntK(__fmul_rn(invScale, s.scale)) & 0xff);
    const unsigned lm = min(63, nearestIntK(__fmul_rn(invMin, s.theMin)) & 0xff);
    const unsigned short d = halfBits(__fdiv_rn(maxScale, 63.f));
    const unsigned short dmin = halfBits(__fdiv_rn(maxMin, 63.f));
    // Sub-blocks j < 4 take bytes j and j + 4 with the top bits of j + 4; j >= 4 byte j + 4.
    const unsigned ls4 = __shfl_down_sync(kAllLanes, ls, 4, 8);
    const unsigned lm4 = __shfl_down_sync(kAllLanes, lm, 4, 8);
    const unsigned shift = 8 * (j & 3);
    const unsigned low = j < 4 ? (ls | ((ls4 >> 4) << 6)) << shift : 0u;
    const unsigned mid = j < 4 ? (lm | ((lm4 >> 4) << 6)) << shift : 0u;
    const unsigned high = j >= 4 ? ((ls & 0xf) | ((lm & 0xf) << 4)) << shift : 0u;
    header[0] = d | (static_cast<unsigned>(dmin) << 16);
    header[1] = groupOr<8>(low);
    header[2] = groupOr<8>(mid);
    header[3] = groupOr<8>(high);
    return {__fmul_rn(halfValue(d), static_cast<float>(ls)),
            __fmul_rn(halfValue(dmin), static_cast<float>(lm))};
}

// Sub-block j's codes (bits 8b..8b+3 of word k: value 4k + b) into its super-block's
// nibbles at `qs`: sub-blocks 2c and 2c + 1 share bytes 32c..32c + 31 (low and high nibbles);
// the even lane writes the first 16, the odd lane the other 16.
__device__ inline void packNibblesK(const unsigned (&words)[8], int j, unsigned char* qs) {
    const bool odd = (j & 1) != 0;
    unsigned out[4];
#pragma unroll
    for (int k = 0; k < 4; ++k) {
        const unsigned partner = __shfl_xor_sync(kAllLanes, odd ? words[k] : words[4 + k], 1);
        out[k] = odd ? partner | (words[4 + k] << 4) : words[k] | (partner << 4);
    }
    if (qs)
        *reinterpret_cast<uint4*>(qs + 32 * (j >> 1) + (odd ? 16 : 0)) =
            make_uint4(out[0], out[1], out[2], out[3]);
}

// Q4_K (Five false) and Q5_K (Five true) as block_pass.cu's super-block kernel takes an
// encoder: scales() searches and stores (lane j == 0 writes d, dmin and the packed scales),
// code() and value() per value, pack() the codes (4 a word, a byte each): the low nibbles,
// and Q5_K's fifth bits (bit j of qh[l] for value l of sub-block j).
template <bool Five>
struct EncoderScaleMin {
    using Rule = ScaleMinRule<32, Five ? 31 : 15, Five ? 15 : 20, false>;
    static constexpr int kSub = 32;
    static constexpr int kBytes = Five ? sizeof(quant::BlockQ5_K) : sizeof(quant::BlockQ4_K);
    static constexpr int kQs = Five ? 48 : 16;  // where the nibbles start
    // Blocks of 256 threads a multiprocessor the compiler must fit: 1 (Q4_K at 128 registers
    // and 2 blocks took 32.9 ms over 1e9 weights, at 80 registers and 3 blocks 41.0 ms).
    static constexpr int kMinBlocks = 1;
    SubSearch search;
    StoredScales stored;

    __device__ void scales(const float (&x)[kSub], int j, int, unsigned char* out) {
        float sumX2 = 0.f;
#pragma unroll
        for (int l = 0; l < kSub; ++l) sumX2 = __fadd_rn(sumX2, __fmul_rn(x[l], x[l]));
        const float av = __fsqrt_rn(__fdiv_rn(sumX2, 32.f));
        search = searchScaleMin<Rule>(x, av, Five ? -0.5f : -1.f);
        unsigned header[4];
        stored = storeScales(search, j, header);
        if (out && j == 0)
            *reinterpret_cast<uint4*>(out) = make_uint4(header[0], header[1], header[2], header[3]);
    }
    __device__ int code(int, float x) const { return finalCode<Rule::kNmax>(stored, search, x); }
    __device__ float value(int code) const {
        return __fsub_rn(__fmul_rn(stored.scale, static_cast<float>(code)), stored.min);
    }
    __device__ void pack(const unsigned (&words)[kSub / 4], int j, unsigned char* out) const {
        unsigned low[kSub / 4];
#pragma unroll
        for (int k = 0; k < kSub / 4; ++k) low[k] = words[k] & 0x0f0f0f0fu;
        if constexpr (Five) {
            // Byte l of word k: bit j of qh[4k + l], from each of the eight lanes.
            unsigned qh[8];
#pragma unroll
            for (int k = 0; k < 8; ++k) qh[k] = groupOr<8>(((words[k] >> 4) & 0x01010101u) << j);
            if (out && j == 0) {
                auto* at = reinterpret_cast<uint4*>(out + 16);
                at[0] = make_uint4(qh[0], qh[1], qh[2], qh[3]);
                at[1] = make_uint4(qh[4], qh[5], qh[6], qh[7]);
            }
        }
        packNibblesK(low, j, out ? out + kQs : nullptr);
    }
};
using EncoderQ4K = EncoderScaleMin<false>;
using EncoderQ5K = EncoderScaleMin<true>;

}  // namespace
}  // namespace cwb::cuda
