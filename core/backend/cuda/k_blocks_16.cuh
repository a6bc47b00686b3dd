// llama.cpp's reference encoders of the K formats with sub-blocks of 16, Q2_K, Q3_K and Q6_K, on
// a GPU (used by block_pass.cu; what the K formats share is in k_blocks.cuh): a thread per
// sub-block, sixteen lanes a super-block of 256. Q2_K: make_qkx2_quants with weights |x| and
// the absolute error, 4-bit scales and minima; Q3_K: make_q3_quants' coordinate descent, signed
// 6-bit scales; Q6_K: make_qx_quants, int8 scales (core/quant/k_quant_search.cpp,
// k_blocks_16.cpp), every float operation in the CPU's order.
#pragma once

#include "core/backend/cuda/k_blocks.cuh"

namespace cwb::cuda {
namespace {

constexpr int kSub16 = 16;

// The 2-bit fields of Q2_K's and Q3_K's codes and Q6_K's high bits: in each half h of 128
// values, quarter k of 32 sits at bits 2k of 32 bytes, and sub-block j = 8h + 2k + half holds
// values 16 half .. 16 half + 15 of its quarter. Lanes j, j + 2, j + 4 and j + 6 (quarters 0-3)
// give bits shift, shift + 1 of their code bytes; `out`, in the lanes with k == 0, takes the
// 16 bytes at 32 h + 16 half.
__device__ inline void twoBitFields(const unsigned (&words)[4], int shift, unsigned (&out)[4]) {
#pragma unroll
    for (int w = 0; w < 4; ++w) {
        const unsigned mine = (words[w] >> shift) & 0x03030303u;
        const unsigned w2 = __shfl_down_sync(kAllLanes, mine, 2, 16);
        const unsigned w4 = __shfl_down_sync(kAllLanes, mine, 4, 16);
        const unsigned w6 = __shfl_down_sync(kAllLanes, mine, 6, 16);
        out[w] = mine | (w2 << 2) | (w4 << 4) | (w6 << 6);
    }
}
// Where lane j's 2-bit fields go (k == 0 lanes only), from the start of the fields.
__device__ inline int twoBitOffset(int j) { return 32 * (j / 8) + 16 * (j % 2); }
__device__ inline bool writesTwoBits(int j) { return j % 8 < 2; }

// ---- Q2_K

// make_qkx2_quants(16, 3, x, |x|, -0.5, 0.1, 15 steps, absolute error), 4-bit scales and minima
// against their maxima (fp16 d and dmin), the codes again against them. Bytes: scales (16), qs
// (64), d, dmin.
struct EncoderQ2K {
    using Rule = ScaleMinRule<kSub16, 3, 15, true>;
    static constexpr int kSub = kSub16, kBytes = sizeof(quant::BlockQ2_K);
    static constexpr int kMinBlocks = 2;
    SubSearch search;
    StoredScales stored;

    __device__ void scales(const float (&x)[kSub], int j, int, unsigned char* out) {
        search = searchScaleMin<Rule>(x, 0.f, -0.5f);  // 0 + |x| is |x|: the weights
        const float maxScale = groupMax<16>(search.scale > 0.f ? search.scale : 0.f);
        const float maxMin = groupMax<16>(search.theMin > 0.f ? search.theMin : 0.f);
        // The reference's byte: the scale's code cast to a byte, the minimum's shifted in.
        const unsigned ls = maxScale > 0.f ? static_cast<unsigned>(nearestIntK(__fmul_rn(
                                                 __fdiv_rn(15.f, maxScale), search.scale)))
                                           : 0u;
        const unsigned lm = maxMin > 0.f ? static_cast<unsigned>(nearestIntK(
                                               __fmul_rn(__fdiv_rn(15.f, maxMin), search.theMin)))
                                         : 0u;
        const unsigned byte = (ls & 0xff) | ((lm << 4) & 0xff);
        const unsigned short d = halfBits(maxScale > 0.f ? __fdiv_rn(maxScale, 15.f) : 0.f);
        const unsigned short dmin = halfBits(maxMin > 0.f ? __fdiv_rn(maxMin, 15.f) : 0.f);
        stored = {__fmul_rn(halfValue(d), static_cast<float>(byte & 0xf)),
                  __fmul_rn(halfValue(dmin), static_cast<float>(byte >> 4))};
        if (!out) return;
        out[j] = static_cast<unsigned char>(byte);
        if (j == 0) {
            out[80] = static_cast<unsigned char>(d & 0xff);
            out[81] = static_cast<unsigned char>(d >> 8);
            out[82] = static_cast<unsigned char>(dmin & 0xff);
            out[83] = static_cast<unsigned char>(dmin >> 8);
        }
    }
    __device__ int code(int, float x) const { return finalCode<3>(stored, search, x); }
    __device__ float value(int code) const {
        return __fsub_rn(__fmul_rn(stored.scale, static_cast<float>(code)), stored.min);
    }
    __device__ void pack(const unsigned (&words)[kSub / 4], int j, unsigned char* out) const {
        unsigned qs[4];
        twoBitFields(words, 0, qs);
        if (out && writesTwoBits(j)) storeBytes(qs, out + 16 + twoBitOffset(j));
    }
};

// ---- Q3_K

// The value of largest magnitude (the first of ties) of a sub-block, its magnitude in `amax`,
// as make_q3_quants and make_qx_quants find them.
__device__ inline float signedAbsMax(const float (&x)[kSub16], float& amax) {
    float top = 0.f;
    amax = 0.f;
#pragma unroll
    for (int i = 0; i < kSub16; ++i)
        if (amax < fabsf(x[i])) {
            amax = fabsf(x[i]);
            top = x[i];
        }
    return top;
}

// make_q3_quants(16, 4, x, do_rmse): codes (0..7, or 0 for an all-small sub-block) and the
// scale, sums and coordinate descent in the reference's order.
__device__ inline float searchQ3K(const float (&x)[kSub16], int (&codes)[kSub16]) {
    float amax;
    const float top = signedAbsMax(x, amax);
    if (amax < 1e-15f) {
#pragma unroll
        for (int i = 0; i < kSub16; ++i) codes[i] = 0;
        return 0.f;
    }
    const float iscale = __fdiv_rn(-4.f, top);
    float sumlx = 0.f, suml2 = 0.f;
#pragma unroll
    for (int i = 0; i < kSub16; ++i) {
        codes[i] = max(-4, min(3, nearestIntK(__fmul_rn(iscale, x[i]))));
        const float l = static_cast<float>(codes[i]), w = __fmul_rn(x[i], x[i]);
        sumlx = __fadd_rn(sumlx, __fmul_rn(__fmul_rn(w, x[i]), l));
        suml2 = __fadd_rn(suml2, __fmul_rn(__fmul_rn(w, l), l));
    }
#pragma unroll 1
    for (int pass = 0; pass < 5; ++pass) {
        bool changed = false;
#pragma unroll
        for (int i = 0; i < kSub16; ++i) {
            const float w = __fmul_rn(x[i], x[i]), li = static_cast<float>(codes[i]);
            float slx = __fsub_rn(sumlx, __fmul_rn(__fmul_rn(w, x[i]), li));
            if (!(slx > 0.f)) continue;
            float sl2 = __fsub_rn(suml2, __fmul_rn(__fmul_rn(w, li), li));
            const int next = max(-4, min(3, nearestIntK(__fdiv_rn(__fmul_rn(x[i], sl2), slx))));
            if (next == codes[i]) continue;
            const float ln = static_cast<float>(next);
            slx = __fadd_rn(slx, __fmul_rn(__fmul_rn(w, x[i]), ln));
            sl2 = __fadd_rn(sl2, __fmul_rn(__fmul_rn(w, ln), ln));
            if (sl2 > 0.f &&
                __fmul_rn(__fmul_rn(slx, slx), suml2) > __fmul_rn(__fmul_rn(sumlx, sumlx), sl2)) {
                codes[i] = next;
                sumlx = slx;
                suml2 = sl2;
                changed = true;
            }
        }
        if (!changed) break;
    }
#pragma unroll
    for (int i = 0; i < kSub16; ++i) codes[i] += 4;
    return __fdiv_rn(sumlx, suml2);
}

// Signed 6-bit scales against the super-block's largest (sixteen lanes), d = fp16(1 / iscale),
// the codes again against them (a sub-block whose stored scale is 0 keeps the search's). Bytes:
// hmask (32: the codes' third bits), qs (64: their low two), scales (12), d.
struct EncoderQ3K {
    static constexpr int kSub = kSub16, kBytes = sizeof(quant::BlockQ3_K);
    static constexpr int kMinBlocks = 2;
    int codes[kSub];  // the search's
    float dl;         // the sub-block's stored scale d * (l - 32)

    __device__ void scales(const float (&x)[kSub], int j, int lane, unsigned char* out) {
        const float scale = searchQ3K(x, codes);
        float amax;
        const float maxScale = signedAbsMax<16>(scale, lane, amax);
        const bool zero = maxScale == 0.f;  // every byte 0: l reads back as 0
        const float iscale = zero ? 0.f : __fdiv_rn(-32.f, maxScale);
        const int l = zero ? 0
                           : max(-32, min(31, static_cast<int>(static_cast<signed char>(
                                                  nearestIntK(__fmul_rn(iscale, scale)))))) +
                                 32;
        const unsigned short d = halfBits(zero ? 0.f : __fdiv_rn(1.f, iscale));
        dl = __fmul_rn(halfValue(d), static_cast<float>(l - 32));
        const int l4 = __shfl_down_sync(kAllLanes, l, 4, 16);
        const int l8 = __shfl_down_sync(kAllLanes, l, 8, 16);
        const int l12 = __shfl_down_sync(kAllLanes, l, 12, 16);
        if (!out) return;
        // Byte j < 8: the low nibbles of scales j and j + 8; byte 8 + j (j < 4): the top two
        // bits of scales j, j + 4, j + 8 and j + 12.
        if (j < 8) out[96 + j] = static_cast<unsigned char>((l & 0xf) | ((l8 & 0xf) << 4));
        if (j < 4)
            out[104 + j] = static_cast<unsigned char>((l >> 4) | ((l4 >> 4) << 2) |
                                                      ((l8 >> 4) << 4) | ((l12 >> 4) << 6));
        if (j == 0) {
            out[108] = static_cast<unsigned char>(d & 0xff);
            out[109] = static_cast<unsigned char>(d >> 8);
        }
    }
    __device__ int code(int i, float x) const {
        if (dl == 0.f) return codes[i];
        return max(-4, min(3, nearestIntK(__fdiv_rn(x, dl)))) + 4;
    }
    __device__ float value(int code) const { return __fmul_rn(dl, static_cast<float>(code - 4)); }
    // Value e's third bit goes to bit e / 32 of hmask[e % 32]: sub-block j's to bit j / 2 of
    // bytes 16 (j % 2) .. + 15, from the eight lanes of its parity.
    __device__ void pack(const unsigned (&words)[kSub / 4], int j, unsigned char* out) const {
        unsigned hmask[4], qs[4];
#pragma unroll
        for (int w = 0; w < 4; ++w) {
            hmask[w] = ((words[w] >> 2) & 0x01010101u) << (j / 2);
            for (int o = 2; o < 16; o <<= 1) hmask[w] |= __shfl_xor_sync(kAllLanes, hmask[w], o);
        }
        twoBitFields(words, 0, qs);
        if (!out) return;
        if (j < 2) storeBytes(hmask, out + 16 * j);
        if (writesTwoBits(j)) storeBytes(qs, out + 32 + twoBitOffset(j));
    }
};

// ---- Q6_K

// clamp(nearestInt(iscale * x), -32, 31) + 32; iscale 0: the all-small sub-block's code 0.
__device__ inline int q6Code(float iscale, float x) {
    if (iscale == 0.f) return 0;
    return max(-32, min(31, nearestIntK(__fmul_rn(iscale, x)))) + 32;
}

// Sums of make_qx_quants for one trial scale: sum of x^3 l and of x^2 l^2.
__device__ inline void q6Sums(const float (&x)[kSub16], float iscale, float& sumlx, float& suml2) {
    sumlx = suml2 = 0.f;
#pragma unroll
    for (int i = 0; i < kSub16; ++i) {
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
__device__ inline Q6Search searchQ6K(const float (&x)[kSub16]) {
    float amax;
    const float top = signedAbsMax(x, amax);
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
    static constexpr int kSub = kSub16, kBytes = sizeof(quant::BlockQ6_K);
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
    __device__ int code(int, float x) const {
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
            const unsigned w4 = __shfl_down_sync(kAllLanes, words[w], 4, 16);
            ql[w] = (words[w] & 0x0f0f0f0fu) | ((w4 & 0x0f0f0f0fu) << 4);
        }
        twoBitFields(words, 4, qh);
        if (!out) return;
        if (k < 2) storeBytes(ql, out + 64 * h + 32 * k + 16 * half);
        if (writesTwoBits(j)) storeBytes(qh, out + 128 + twoBitOffset(j));
    }
};

}  // namespace
}  // namespace cwb::cuda
