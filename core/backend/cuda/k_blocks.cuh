// llama.cpp's reference Q4_K and Q6_K encoders on a GPU (used by block_pass.cu): one thread per
// sub-block (Q4_K: 32 values, eight lanes a super-block of 256; Q6_K: 16 values, sixteen
// lanes). Each thread runs its format's search (core/quant/k_quant_search.cpp: Q4_K's
// make_qkx2_quants with weights av_x + |x|, 20 trial scales with a minimum; Q6_K's
// make_qx_quants, 18 trial scales) with its sums in the reference's order, then the lanes share
// the super-block's stored scales (core/quant/k_blocks_32.cpp, k_blocks_16.cpp) and each codes
// its values against them. Every float operation is an IEEE intrinsic in the CPU's order and
// nothing is contracted, so the bytes are quant::quantizeRow's.
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

// ---- Q4_K

constexpr int kQ4KSub = 32;  // values of a Q4_K sub-block (one thread; eight a super-block)

// The reference's nearestInt: round to nearest even through the 1.5 * 2^23 shift (valid below
// 2^22 in magnitude; the same bits as the CPU's beyond).
__device__ inline int nearestIntK(float x) {
    return (__float_as_int(__fadd_rn(x, 12582912.f)) & 0x007fffff) - 0x00400000;
}

// A search code: clamp(nearestInt(iscale * (x - low)), 0, 15).
__device__ inline int searchCode(float iscale, float x, float low) {
    return max(0, min(15, nearestIntK(__fmul_rn(iscale, __fsub_rn(x, low)))));
}

// weight * (scale * code + low - x)^2, a term of the search's error.
__device__ inline float weightedError(float weight, float scale, int code, float low, float x) {
    const float diff = __fsub_rn(__fadd_rn(__fmul_rn(scale, static_cast<float>(code)), low), x);
    return __fmul_rn(weight, __fmul_rn(diff, diff));
}

// The outcome of a sub-block's search: its scale and negated minimum, and the rule that gave
// its codes (searchCode(iscale, x, codeMin)), kept for sub-blocks whose stored scale is 0.
struct SubSearch {
    float scale, theMin, iscale, codeMin;
};

// make_qkx2_quants(32, 15, x, av_x + |x|, rmin -1, rdelta 0.1, 20 steps, squared error).
__device__ inline SubSearch searchQ4K(const float (&x)[kQ4KSub]) {
    float sumX2 = 0.f;
#pragma unroll
    for (int l = 0; l < kQ4KSub; ++l) sumX2 = __fadd_rn(sumX2, __fmul_rn(x[l], x[l]));
    const float avX = __fsqrt_rn(__fdiv_rn(sumX2, 32.f));
    float lo = x[0], hi = x[0];
    float sumW = __fadd_rn(avX, fabsf(x[0]));
    float sumX = __fmul_rn(sumW, x[0]);
#pragma unroll
    for (int i = 1; i < kQ4KSub; ++i) {
        if (x[i] < lo) lo = x[i];
        if (x[i] > hi) hi = x[i];
        const float w = __fadd_rn(avX, fabsf(x[i]));
        sumW = __fadd_rn(sumW, w);
        sumX = __fadd_rn(sumX, __fmul_rn(w, x[i]));
    }
    if (lo > 0.f) lo = 0.f;
    if (hi == lo) return {0.f, -lo, 0.f, 0.f};  // codes 0
    SubSearch s{0.f, 0.f, __fdiv_rn(15.f, __fsub_rn(hi, lo)), lo};
    s.scale = __fdiv_rn(1.f, s.iscale);
    float best = 0.f;
#pragma unroll
    for (int l = 0; l < kQ4KSub; ++l)
        best = __fadd_rn(best, weightedError(__fadd_rn(avX, fabsf(x[l])), s.scale,
                                             searchCode(s.iscale, x[l], lo), lo, x[l]));
#pragma unroll 1
    for (int is = 0; is <= 20; ++is) {
        const float iscale =
            __fdiv_rn(__fadd_rn(__fadd_rn(-1.f, __fmul_rn(0.1f, static_cast<float>(is))), 15.f),
                      __fsub_rn(hi, lo));
        float sumL = 0.f, sumL2 = 0.f, sumXL = 0.f;
#pragma unroll
        for (int l = 0; l < kQ4KSub; ++l) {
            const float fl = static_cast<float>(searchCode(iscale, x[l], lo));
            const float wl = __fmul_rn(__fadd_rn(avX, fabsf(x[l])), fl);
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
        for (int l = 0; l < kQ4KSub; ++l)
            e = __fadd_rn(e, weightedError(__fadd_rn(avX, fabsf(x[l])), scale,
                                           searchCode(iscale, x[l], lo), m, x[l]));
        if (e < best) {
            best = e;
            s = {scale, 0.f, iscale, lo};
            lo = m;  // the next trials measure from the new minimum, as the reference's do
        }
    }
    s.theMin = -lo;
    return s;
}

// The largest of the eight lanes' values (xor 4, 2, 1 stays within a lane's eight).
__device__ inline float maxOfEight(float v) {
    for (int o = 4; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(kAllLanes, v, o));
    return v;
}
__device__ inline unsigned orOfEight(unsigned v) {
    for (int o = 4; o > 0; o >>= 1) v |= __shfl_xor_sync(kAllLanes, v, o);
    return v;
}

// A sub-block's stored scale and minimum: its values decode as scale * code - min.
struct StoredScales {
    float scale, min;
    unsigned header[4];  // the super-block's first 16 bytes (d, dmin, packed scales): lane j == 0
};

// The super-block's 6-bit scales and minima against their maxima (lane j of eight holds
// sub-block j's search), as scalesScaleMin and packScaleMinK4 of the CPU.
__device__ inline StoredScales storeScales(const SubSearch& s, int j) {
    const float maxScale = maxOfEight(s.scale > 0.f ? s.scale : 0.f);
    const float maxMin = maxOfEight(s.theMin > 0.f ? s.theMin : 0.f);
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
    StoredScales r;
    r.scale = __fmul_rn(halfValue(d), static_cast<float>(ls));
    r.min = __fmul_rn(halfValue(dmin), static_cast<float>(lm));
    r.header[0] = d | (static_cast<unsigned>(dmin) << 16);
    r.header[1] = orOfEight(low);
    r.header[2] = orOfEight(mid);
    r.header[3] = orOfEight(high);
    return r;
}

// The final code of a value: against the stored scales, or the search's where that scale is 0.
__device__ inline int finalCode(const StoredScales& st, const SubSearch& s, float x) {
    if (st.scale == 0.f) return searchCode(s.iscale, x, s.codeMin);
    return max(0, min(15, nearestIntK(__fdiv_rn(__fadd_rn(x, st.min), st.scale))));
}

// Sub-block j's codes (bits 8b..8b+3 of word k: value 4k + b) into its super-block's
// nibbles at `qs`: sub-blocks 2c and 2c + 1 share bytes 32c..32c + 31 (low and high nibbles);
// the even lane writes the first 16, the odd lane the other 16.
__device__ inline void packQ4K(const unsigned (&words)[8], int j, unsigned char* qs) {
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

// The Q4_K encoder as block_pass.cu's super-block kernel takes it: scales() searches and
// stores (lane j == 0 writes d, dmin and the packed scales), code() and value() per value,
// pack() the codes (4 a word, a byte each).
struct EncoderQ4K {
    static constexpr int kSub = kQ4KSub, kBytes = sizeof(quant::BlockQ4_K);
    // Blocks of 256 threads a multiprocessor the compiler must fit: 1 (128 registers; 3, at 80
    // registers and spills, took 41.0 instead of 32.9 ms over 1e9 weights).
    static constexpr int kMinBlocks = 1;
    SubSearch search;
    StoredScales stored;

    __device__ void scales(const float (&x)[kSub], int j, int, unsigned char* out) {
        search = searchQ4K(x);
        stored = storeScales(search, j);
        if (out && j == 0)
            *reinterpret_cast<uint4*>(out) =
                make_uint4(stored.header[0], stored.header[1], stored.header[2], stored.header[3]);
    }
    __device__ int code(float x) const { return finalCode(stored, search, x); }
    __device__ float value(int code) const {
        return __fsub_rn(__fmul_rn(stored.scale, static_cast<float>(code)), stored.min);
    }
    __device__ void pack(const unsigned (&words)[kSub / 4], int j, unsigned char* out) const {
        packQ4K(words, j, out ? out + 16 : nullptr);
    }
};

// ---- Q6_K

constexpr int kQ6KSub = 16;

// clamp(nearestInt(iscale * x), -32, 31) + 32; iscale 0: the all-small sub-block's code 0.
__device__ inline int q6Code(float iscale, float x) {
    if (iscale == 0.f) return 0;
    return max(-32, min(31, nearestIntK(__fmul_rn(iscale, x)))) + 32;
}

// Sums of make_qx_quants for one trial scale: sum of x^3 l and of x^2 l^2.
__device__ inline void q6Sums(const float (&x)[kQ6KSub], float iscale, float& sumlx, float& suml2) {
    sumlx = suml2 = 0.f;
#pragma unroll
    for (int i = 0; i < kQ6KSub; ++i) {
        const float l = static_cast<float>(q6Code(iscale, x[i]) - 32);
        const float w = __fmul_rn(x[i], x[i]);
        sumlx = __fadd_rn(sumlx, __fmul_rn(__fmul_rn(w, x[i]), l));
        suml2 = __fadd_rn(suml2, __fmul_rn(__fmul_rn(w, l), l));
    }
}

// make_qx_quants(16, 32, x, rmse_type 1): the scale and the trial scale that gave the codes.
struct Q6Search {
    float scale, iscale;
};
__device__ inline Q6Search searchQ6K(const float (&x)[kQ6KSub]) {
    float amax = 0.f, top = 0.f;
#pragma unroll
    for (int i = 0; i < kQ6KSub; ++i)
        if (amax < fabsf(x[i])) {
            amax = fabsf(x[i]);
            top = x[i];
        }
    if (amax < 1e-15f) return {0.f, 0.f};
    float sumlx, suml2;
    Q6Search s{0.f, __fdiv_rn(-32.f, top)};
    q6Sums(x, s.iscale, sumlx, suml2);
    s.scale = suml2 != 0.f ? __fdiv_rn(sumlx, suml2) : 0.f;
    float best = __fmul_rn(s.scale, sumlx);
#pragma unroll 1
    for (int is = -9; is <= 9; ++is) {
        if (is == 0) continue;
        const float iscale =
            __fdiv_rn(-__fadd_rn(32.f, __fmul_rn(0.1f, static_cast<float>(is))), top);
        q6Sums(x, iscale, sumlx, suml2);
        if (suml2 > 0.f && __fmul_rn(sumlx, sumlx) > __fmul_rn(best, suml2)) {
            s = {__fdiv_rn(sumlx, suml2), iscale};
            best = __fmul_rn(s.scale, sumlx);
        }
    }
    return s;
}

// Q6_K: int8 scales against the super-block's largest (sixteen lanes), d = fp16(1 / iscale); a
// super-block whose scales are all below 1e-15 is written as zeros. Bytes: ql (128), qh (64),
// scales (16), d.
struct EncoderQ6K {
    static constexpr int kSub = kQ6KSub, kBytes = sizeof(quant::BlockQ6_K);
    static constexpr int kMinBlocks = 3;  // 80 registers: 20.85 ms over 1e9 (96: 21.19 ms)
    Q6Search search;
    float dl;  // the sub-block's stored scale d * scale
    bool zero;

    __device__ void scales(const float (&x)[kSub], int j, int lane, unsigned char* out) {
        search = searchQ6K(x);
        float amax;
        const float maxScale = signedAbsMax<16>(search.scale, lane, amax);
        zero = amax < 1e-15f;
        const float iscale = zero ? 0.f : __fdiv_rn(-128.f, maxScale);
        const unsigned short d = zero ? 0 : halfBits(__fdiv_rn(1.f, iscale));
        const signed char sc =
            zero ? 0
                 : static_cast<signed char>(min(127, nearestIntK(__fmul_rn(iscale, search.scale))));
        dl = __fmul_rn(halfValue(d), static_cast<float>(sc));
        if (!out) return;
        out[192 + j] = static_cast<unsigned char>(sc);
        if (j == 0) {
            out[208] = static_cast<unsigned char>(d & 0xff);
            out[209] = static_cast<unsigned char>(d >> 8);
        }
    }
    __device__ int code(float x) const {
        if (zero) return 0;
        if (dl == 0.f) return q6Code(search.iscale, x);
        return max(-32, min(31, nearestIntK(__fdiv_rn(x, dl)))) + 32;
    }
    __device__ float value(int code) const { return __fmul_rn(dl, static_cast<float>(code - 32)); }
    // Sub-block j = 8h + 2k + half holds values l = 16 half + i of quarter k of half h: the low
    // nibbles of ql[64h + 32(k & 1) + l] (k < 2; k >= 2: the high ones) and bits 2k of
    // qh[32h + l]. Lanes with k < 2 write the ql bytes (their partner j + 4 the high nibbles),
    // lanes with k == 0 the qh bytes (from j, j + 2, j + 4, j + 6).
    __device__ void pack(const unsigned (&words)[kSub / 4], int j, unsigned char* out) const {
        const int h = j / 8, k = (j % 8) / 2, half = j % 2;
        unsigned ql[4], qh[4];
#pragma unroll
        for (int w = 0; w < 4; ++w) {
            const unsigned w2 = __shfl_down_sync(kAllLanes, words[w], 2, 16);
            const unsigned w4 = __shfl_down_sync(kAllLanes, words[w], 4, 16);
            const unsigned w6 = __shfl_down_sync(kAllLanes, words[w], 6, 16);
            ql[w] = (words[w] & 0x0f0f0f0fu) | ((w4 & 0x0f0f0f0fu) << 4);
            qh[w] = ((words[w] >> 4) & 0x03030303u) | (((w2 >> 4) & 0x03030303u) << 2) |
                    (((w4 >> 4) & 0x03030303u) << 4) | (((w6 >> 4) & 0x03030303u) << 6);
        }
        if (!out) return;
        if (k < 2) storeBytes(ql, out + 64 * h + 32 * k + 16 * half);
        if (k == 0) storeBytes(qh, out + 128 + 32 * h + 16 * half);
    }
    // 16 bytes from four words at an address of any alignment (blocks of 210 bytes).
    __device__ static void storeBytes(const unsigned (&w)[4], unsigned char* at) {
#pragma unroll
        for (int b = 0; b < 16; ++b) at[b] = static_cast<unsigned char>(w[b / 4] >> (8 * (b % 4)));
    }
};

}  // namespace
}  // namespace cwb::cuda
