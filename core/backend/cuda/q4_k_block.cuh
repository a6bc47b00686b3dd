// llama.cpp's reference Q4_K encoder on a GPU (used by block_pass.cu): one thread per
// sub-block of 32 values, eight neighbouring lanes per super-block of 256. Each thread runs
// make_qkx2_quants (core/quant/k_quant_search.cpp: weights av_x + |x|, 20 trial scales with a
// minimum) with its sums in the reference's order, then the eight lanes share the super-block's
// 6-bit scales and fp16 d/dmin (core/quant/k_blocks_32.cpp) and each codes its values against
// the stored scales. Every float operation is an IEEE intrinsic in the CPU's order and nothing
// is contracted, so the bytes are quant::quantizeRow's.
#pragma once

#include <cuda_fp16.h>
#include <cuda_runtime.h>

namespace cwb::cuda {
namespace {

constexpr int kSubValues = 32;     // values of a Q4_K sub-block (one thread)
constexpr int kSuperValues = 256;  // values of a Q4_K super-block (eight lanes)
constexpr int kQ4KBytes = 144;     // d, dmin, 12 bytes of scales, 128 of nibbles
constexpr unsigned kAllLanes = 0xffffffffu;

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
__device__ inline SubSearch searchQ4K(const float (&x)[kSubValues]) {
    float sumX2 = 0.f;
#pragma unroll
    for (int l = 0; l < kSubValues; ++l) sumX2 = __fadd_rn(sumX2, __fmul_rn(x[l], x[l]));
    const float avX = __fsqrt_rn(__fdiv_rn(sumX2, 32.f));
    float lo = x[0], hi = x[0];
    float sumW = __fadd_rn(avX, fabsf(x[0]));
    float sumX = __fmul_rn(sumW, x[0]);
#pragma unroll
    for (int i = 1; i < kSubValues; ++i) {
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
    for (int l = 0; l < kSubValues; ++l)
        best = __fadd_rn(best, weightedError(__fadd_rn(avX, fabsf(x[l])), s.scale,
                                             searchCode(s.iscale, x[l], lo), lo, x[l]));
#pragma unroll 1
    for (int is = 0; is <= 20; ++is) {
        const float iscale =
            __fdiv_rn(__fadd_rn(__fadd_rn(-1.f, __fmul_rn(0.1f, static_cast<float>(is))), 15.f),
                      __fsub_rn(hi, lo));
        float sumL = 0.f, sumL2 = 0.f, sumXL = 0.f;
#pragma unroll
        for (int l = 0; l < kSubValues; ++l) {
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
        for (int l = 0; l < kSubValues; ++l)
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
    const unsigned short d = __half_as_ushort(__float2half_rn(__fdiv_rn(maxScale, 63.f)));
    const unsigned short dmin = __half_as_ushort(__float2half_rn(__fdiv_rn(maxMin, 63.f)));
    // Sub-blocks j < 4 take bytes j and j + 4 with the top bits of j + 4; j >= 4 byte j + 4.
    const unsigned ls4 = __shfl_down_sync(kAllLanes, ls, 4, 8);
    const unsigned lm4 = __shfl_down_sync(kAllLanes, lm, 4, 8);
    const unsigned shift = 8 * (j & 3);
    const unsigned low = j < 4 ? (ls | ((ls4 >> 4) << 6)) << shift : 0u;
    const unsigned mid = j < 4 ? (lm | ((lm4 >> 4) << 6)) << shift : 0u;
    const unsigned high = j >= 4 ? ((ls & 0xf) | ((lm & 0xf) << 4)) << shift : 0u;
    StoredScales r;
    r.scale = __fmul_rn(__half2float(__ushort_as_half(d)), static_cast<float>(ls));
    r.min = __fmul_rn(__half2float(__ushort_as_half(dmin)), static_cast<float>(lm));
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

}  // namespace
}  // namespace cwb::cuda
