// The fused pass's kernel (see fused_pass.cu, which launches it): its parameters, the CPU's
// literal element rules (the generic mode) and the fast modes of fused_fast.cuh, one weight
// read per element and the counts in shared memory. Included by fused_pass.cu and, for its
// counters and sums, block_pass.cu.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>
#include <type_traits>

#include "core/backend/cuda/fused_fast.cuh"
#include "core/compress/fused_pass.h"

namespace cwb::cuda {
namespace {

// Threads a block: 256 with at most 64 registers, four blocks a multiprocessor (three blocks
// of 80 registers and blocks of 512 threads timed slower; see bench/results/cuda.md).
constexpr int kThreads = 256;
constexpr int kUnroll = 4;  // float4 loads in flight per thread

enum UnitMode { kTensor = 0, kChannel = 1, kGroup = 2 };

// What a kernel counts. The fixed modes count in 32 lane-private copies with the arithmetic
// of fused_fast.cuh; kGeneric follows the CPU's rules literally and takes the flags of Params
// (per-unit steps, histogram ranges or code spans the fast rules do not cover, other copy
// counts for the bench).
enum Counting {
    kGeneric = 0,
    kHistCodes = 1,   // original and error histograms, codes; zeros from the codes
    kHistValues = 2,  // original, compressed and error histograms (no codes)
    kCodes = 3,       // codes only; zeros from the codes
    kNothing = 4,     // values and sums only
    // kHistCodes and kHistValues where the errors are bounded below (uniform or no
    // quantization, no explicit mask): counters below the error histogram take the errors
    // under lo without a clamp (fast::rawSlotFrom).
    kHistCodesPadded = 5,
    kHistValuesPadded = 6,
};

struct Bins {
    float lo, hi, scale;
    int bins;
};

struct Partial {
    double squares, errors, maxAbs;
    unsigned long long zeros, originalZeros;
};

// Offsets of the four counter arrays (in slots). The fast modes' raw arrays have one slot
// more per histogram (fast::Bins), and the original weights one more for exact zeros; their
// compressed array is the pruned weights' raw slots (as the original's).
struct Layout {
    int original, compressed, error, codes, total;
};
inline Layout layoutOf(bool histograms, int weightBins, int errorBins, bool compressed,
                       int codeSpan, bool raw, int errorPad = 0) {
    Layout l;
    const int extra = raw ? 1 : 0;
    const int w = histograms ? weightBins + 2 + extra : 0;
    const int e = histograms ? errorBins + 2 + extra + errorPad : 0;
    l.original = 0;
    l.compressed = w + (histograms ? extra : 0);
    l.error = l.compressed + (compressed ? w + extra : 0);
    l.codes = l.error + e;
    l.total = l.codes + codeSpan;
    return l;
}

struct Params {
    const float* in;
    float* out;                // nullptr: statistics only
    const std::uint8_t* keep;  // Explicit
    const float* steps;        // Affine: per unit
    const float* zeroPoints;
    long long n, cols;
    int groupSize, unitMode;
    float rho, alpha, qmin, qmax;
    Bins weights, errors;
    float codeBase, codeTop;
    int codeSpan;
    bool histograms, countCompressed, countCodes;
    int ways;                    // shared counters per slot (lane % ways); 0: global atomics
    Layout layout;               // of `counts`
    unsigned long long* counts;  // original, compressed, error slots, then codes
    Partial* partials;           // one per block
    // The fast modes: the tensor's one step (alpha or the affine step), its reciprocal and
    // zero point, the |w / step| from which codes may leave the counted span (and need the
    // clamp), and the histograms and code shift of fused_fast.cuh.
    float step, recip, zeroPoint, codeLimit;
    fast::Bins fastWeights, fastErrors;
    unsigned prunedShift;  // kHistValues*: from a weight's raw slot to its pruned copy's
    float codeShift, codeLowMagic, codeTopMagic;
    float errorFloor;       // padded modes: every fast error is at least this (and it is < lo)
    unsigned char* blocks;  // block formats (block_pass.cu): the packed blocks, or nullptr
};

// ---- the element rules: core/compress/quantize.h and fused_kernels.h's *Ref kernels ----

__device__ inline float roundHalfAway(float x) {
    const float t = truncf(x);
    return fabsf(__fsub_rn(x, t)) >= 0.5f ? __fadd_rn(t, copysignf(1.f, x)) : t;
}

__device__ inline int slotOf(float value, const Bins& b) {
    float x = __fmul_rn(__fsub_rn(value, b.lo), b.scale);
    x = x > 0.f ? x : 0.f;
    const float top = static_cast<float>(b.bins - 1);
    x = x < top ? x : top;
    const int inside = 1 + static_cast<int>(x);
    return value < b.lo ? 0 : (value <= b.hi ? inside : b.bins + 1);
}

struct Accumulator {
    double squares = 0, errors = 0;
    float maxAbs = 0;
    unsigned zeros = 0, originalZeros = 0;
    float squaresPart = 0, errorsPart = 0;  // Defer: float sums not yet added to the doubles

    __device__ void flush() {
        squares += static_cast<double>(squaresPart);
        errors += static_cast<double>(errorsPart);
        squaresPart = errorsPart = 0.f;
    }
};

struct Counter {
    unsigned* shared;
    const Params* p;
    int lane;

    __device__ void add(int slot) const {
        if (p->ways > 0)
            atomicAdd(&shared[slot * p->ways + (lane & (p->ways - 1))], 1u);
        else
            atomicAdd(&p->counts[slot], 1ull);
    }
};

// One weight by the literal rules (kGeneric): its value and code (as valuesRef), its counts;
// returns the value.
template <QuantKind Q, KeepRule::Kind K>
__device__ inline float element(const Params& p, float w, bool keepByte, float step, float zp,
                                const Layout& l, const Counter& c) {
    bool keep = true;
    if constexpr (K == KeepRule::Kind::Threshold) keep = fabsf(w) >= p.rho;
    if constexpr (K == KeepRule::Kind::Textbook) keep = w >= p.rho;
    if constexpr (K == KeepRule::Kind::Explicit) keep = keepByte;
    float v = w, code = 0.f;
    if constexpr (Q == QuantKind::Uniform) {
        code = roundHalfAway(__fdiv_rn(w, p.alpha));
        v = __fmul_rn(code, p.alpha);
    }
    if constexpr (Q == QuantKind::Affine) {
        float q = __fadd_rn(roundHalfAway(__fdiv_rn(w, step)), zp);
        q = q > p.qmin ? q : p.qmin;
        q = q < p.qmax ? q : p.qmax;
        code = step == 0.f ? 0.f : __fsub_rn(q, zp);
        v = __fmul_rn(code, step);
    }
    v = keep ? v : 0.f;
    code = keep ? code : 0.f;
    if (p.histograms) {
        c.add(l.original + slotOf(w, p.weights));
        c.add(l.error + slotOf(__fsub_rn(v, w), p.errors));
        if (p.countCompressed) c.add(l.compressed + slotOf(v, p.weights));
    }
    if (p.countCodes) {
        float x = __fsub_rn(code, p.codeBase);
        x = x > 0.f ? x : 0.f;
        x = x < p.codeTop ? x : p.codeTop;
        c.add(l.codes + static_cast<int>(x));
    }
    return v;
}

// All ones where x is 0 (+0 or -0), else 0: one instruction; three masks add in one more,
// so a count subtracts their sum (modulo 2^32) instead of adding 1 under a branch.
__device__ inline unsigned zeroMask(float x) {
    unsigned r;
    asm("set.eq.u32.f32 %0, %1, 0f00000000;" : "=r"(r) : "f"(x));
    return r;
}

// The sums of `count` weights; zeros and the original weights' zeros are counted unless the
// codes or the caller give them. Defer leaves the float sums in the accumulator's parts (the
// caller flushes them every few quads: fewer conversions and double additions).
template <bool Zeros, bool OriginalZeros, bool Defer = false>
__device__ inline void accumulate(Accumulator& a, const float (&w)[4], const float (&v)[4],
                                  int count) {
    float sq = Defer ? a.squaresPart : 0.f, se = Defer ? a.errorsPart : 0.f;
    unsigned zeros = 0, originalZeros = 0;
#pragma unroll
    for (int j = 0; j < 4; ++j) {
        if (j >= count) break;
        const float d = __fsub_rn(v[j], w[j]);
        sq = fmaf(w[j], w[j], sq);
        se = fmaf(d, d, se);
        a.maxAbs = fmaxf(a.maxAbs, fabsf(d));
        if constexpr (Zeros) zeros += zeroMask(v[j]);
        if constexpr (OriginalZeros) originalZeros += zeroMask(w[j]);
    }
    a.zeros -= zeros;
    a.originalZeros -= originalZeros;
    if constexpr (Defer) {
        a.squaresPart = sq;
        a.errorsPart = se;
    } else {
        a.squares += static_cast<double>(sq);
        a.errors += static_cast<double>(se);
    }
}

template <KeepRule::Kind K>
__device__ inline bool kept(const Params& p, float w, unsigned keepBytes, int j) {
    if constexpr (K == KeepRule::Kind::Threshold) return fabsf(w) >= p.rho;
    if constexpr (K == KeepRule::Kind::Textbook) return w >= p.rho;
    if constexpr (K == KeepRule::Kind::Explicit) return ((keepBytes >> (8 * j)) & 0xffu) != 0;
    return true;
}

// Up to four weights by the fast rules (a fixed Counting mode): values into v, counts, sums.
template <QuantKind Q, KeepRule::Kind K, int C>
__device__ inline void fastQuad(const Params& p, const float (&w)[4], unsigned keepBytes, int count,
                                float (&v)[4], Accumulator& acc, unsigned o) {
    constexpr bool padded = C == kHistCodesPadded || C == kHistValuesPadded;
    constexpr bool hist = C == kHistCodes || C == kHistValues || padded;
    constexpr bool values = C == kHistValues || C == kHistValuesPadded;
    constexpr bool codes = C == kHistCodes || C == kHistCodesPadded || C == kCodes;
    float code[4] = {0.f, 0.f, 0.f, 0.f};
    unsigned slow = 0;
    if constexpr (Q != QuantKind::None) {
#pragma unroll
        for (int j = 0; j < 4; ++j)
            code[j] = fast::roundQuotient(w[j], p.step, p.recip, p.codeLimit, slow);
        if (slow)
#pragma unroll
            for (int j = 0; j < 4; ++j) code[j] = fast::roundQuotientExact(w[j], p.step);
        if constexpr (Q == QuantKind::Affine)
#pragma unroll
            for (int j = 0; j < 4; ++j) {
                float q = __fadd_rn(code[j], p.zeroPoint);
                q = q > p.qmin ? q : p.qmin;
                q = q < p.qmax ? q : p.qmax;
                code[j] = __fsub_rn(q, p.zeroPoint);
            }
    }
    float codeAt[4];  // code + 2^23 + A - base
    float error[4];   // padded modes: counted after the loop
#pragma unroll
    for (int j = 0; j < 4; ++j) {
        if (j >= count) break;
        const bool keep = kept<K>(p, w[j], keepBytes, j);
        if constexpr (Q == QuantKind::None) {
            v[j] = keep ? w[j] : 0.f;
        } else {
            // A pruned code is +0 and +0 * step (step > 0) is the CPU's +0.
            code[j] = keep ? code[j] : 0.f;
            v[j] = __fmul_rn(code[j], p.step);
        }
        if constexpr (hist) {
            // The values modes count a pruned weight's raw slot in a second array: the
            // compressed histogram follows (kept values are their weights, pruned ones 0).
            if constexpr (values)
                fast::count(fast::rawSlotOrZero(w[j], p.fastWeights) + (keep ? 0u : p.prunedShift),
                            o);
            else
                fast::count(fast::rawSlotOrZero(w[j], p.fastWeights), o);
            error[j] = __fsub_rn(v[j], w[j]);
            if constexpr (!padded) fast::count(fast::rawSlot(error[j], p.fastErrors), o);
        }
        if constexpr (codes) codeAt[j] = __fadd_rn(code[j], p.codeShift);
    }
    if (slow) {
        // Exact codes may lie outside the span, and their errors below the floor.
#pragma unroll
        for (int j = 0; j < 4; ++j) {
            if constexpr (codes)
                codeAt[j] = fast::clampCode(codeAt[j], p.codeLowMagic, p.codeTopMagic);
            if constexpr (padded) error[j] = error[j] < p.errorFloor ? p.errorFloor : error[j];
        }
    }
#pragma unroll
    for (int j = 0; j < 4; ++j) {
        if (j >= count) break;
        if constexpr (padded) fast::count(fast::rawSlotFrom(error[j], p.fastErrors), o);
        if constexpr (codes) fast::count(__float_as_uint(codeAt[j]), o);
    }
    accumulate<!codes, !hist, true>(acc, w, v, count);
}

// A block's end: its sums (a warp tree, then warp 0 over the warps, in a fixed order) to
// p.partials, and its shared counters (`ways` copies each) added to p.counts.
__device__ inline void finishBlock(const Accumulator& acc, const Params& p,
                                   const unsigned* sharedCounts, int ways) {
    const Layout l = p.layout;
    const int lane = static_cast<int>(threadIdx.x & 31);
    __shared__ Partial warpSums[kThreads / 32];
    double sq = acc.squares, se = acc.errors, mx = acc.maxAbs;
    unsigned long long z = acc.zeros, oz = acc.originalZeros;
    for (int offset = 16; offset > 0; offset /= 2) {
        sq += __shfl_down_sync(0xffffffffu, sq, offset);
        se += __shfl_down_sync(0xffffffffu, se, offset);
        mx = fmax(mx, __shfl_down_sync(0xffffffffu, mx, offset));
        z += __shfl_down_sync(0xffffffffu, z, offset);
        oz += __shfl_down_sync(0xffffffffu, oz, offset);
    }
    const int warp = threadIdx.x / 32;
    if (lane == 0) warpSums[warp] = {sq, se, mx, z, oz};
    __syncthreads();
    if (threadIdx.x == 0) {
        Partial total{0, 0, 0, 0, 0};
        for (int w = 0; w < static_cast<int>(blockDim.x / 32); ++w) {
            total.squares += warpSums[w].squares;
            total.errors += warpSums[w].errors;
            total.maxAbs = fmax(total.maxAbs, warpSums[w].maxAbs);
            total.zeros += warpSums[w].zeros;
            total.originalZeros += warpSums[w].originalZeros;
        }
        p.partials[blockIdx.x] = total;
    }
    if (ways > 0)
        for (int s = threadIdx.x; s < l.total; s += blockDim.x) {
            unsigned long long sum = 0;
            // Copy (w + s) % ways: the threads of a warp read 32 different banks.
            for (int w = 0; w < ways; ++w) sum += sharedCounts[s * ways + ((w + s) & (ways - 1))];
            if (sum) atomicAdd(&p.counts[s], sum);
        }
}

template <QuantKind Q, KeepRule::Kind K, bool PerUnit, int C>
__global__ void __launch_bounds__(kThreads, 4) fusedKernel(Params p) {
    extern __shared__ unsigned sharedCounts[];
    const Layout l = p.layout;
    const int lane = static_cast<int>(threadIdx.x & 31);
    const Counter counter{sharedCounts, &p, lane};
    const int ways = C == kGeneric ? p.ways : 32;
    if (ways > 0)
        for (int s = threadIdx.x; s < l.total * ways; s += blockDim.x) sharedCounts[s] = 0;
    __syncthreads();
    // The fast modes' one counter offset (fast::count).
    const unsigned o = static_cast<unsigned>(__cvta_generic_to_shared(sharedCounts)) +
                       static_cast<unsigned>(lane * 4) - fast::kMagicBits * 128u;

    Accumulator acc;
    const long long stride = static_cast<long long>(gridDim.x) * blockDim.x;
    const long long first = static_cast<long long>(blockIdx.x) * blockDim.x + threadIdx.x;
    float step = Q == QuantKind::Affine && !PerUnit ? p.steps[0] : 0.f;
    float zp = Q == QuantKind::Affine && !PerUnit ? p.zeroPoints[0] : 0.f;
    if constexpr (!PerUnit) {
        // Four weights a load, kUnroll loads in flight before the first is used.
        const long long n4 = p.n / 4;
        const float4* in4 = reinterpret_cast<const float4*>(p.in);
        // kUnroll quads of one iteration; Checked: some may lie past the end.
        const auto iteration = [&](auto checked, long long base) {
            constexpr bool Checked = decltype(checked)::value;
            float4 loaded[kUnroll];
            unsigned keeps[kUnroll];
#pragma unroll
            for (int u = 0; u < kUnroll; ++u) {
                const long long k = base + u * stride;
                if (!Checked || k < n4) {
                    loaded[u] = __ldcs(in4 + k);
                    if constexpr (K == KeepRule::Kind::Explicit)
                        keeps[u] = __ldcs(reinterpret_cast<const unsigned*>(p.keep) + k);
                }
            }
#pragma unroll
            for (int u = 0; u < kUnroll; ++u) {
                const long long k = base + u * stride;
                if (Checked && k >= n4) break;
                const float w[4] = {loaded[u].x, loaded[u].y, loaded[u].z, loaded[u].w};
                const unsigned keepBytes = K == KeepRule::Kind::Explicit ? keeps[u] : 0u;
                float v[4];
                if constexpr (C == kGeneric) {
#pragma unroll
                    for (int j = 0; j < 4; ++j)
                        v[j] = element<Q, K>(p, w[j], ((keepBytes >> (8 * j)) & 0xffu) != 0, step,
                                             zp, l, counter);
                    accumulate<true, true>(acc, w, v, 4);
                } else {
                    fastQuad<Q, K, C>(p, w, keepBytes, 4, v, acc, o);
                }
                if (p.out)
                    __stcs(reinterpret_cast<float4*>(p.out) + k,
                           make_float4(v[0], v[1], v[2], v[3]));
            }
            acc.flush();
        };
        // Whole iterations without bounds checks, then the last, partial one.
        long long base = first;
        for (; base + (kUnroll - 1) * stride < n4; base += stride * kUnroll)
            iteration(std::false_type{}, base);
        if (base < n4) iteration(std::true_type{}, base);
        // The last n % 4 weights.
        for (long long i = n4 * 4 + first; i < p.n; i += stride) {
            const float w[4] = {p.in[i], 0.f, 0.f, 0.f};
            const bool keepByte = K == KeepRule::Kind::Explicit && p.keep[i] != 0;
            float v[4] = {0.f, 0.f, 0.f, 0.f};
            if constexpr (C == kGeneric) {
                v[0] = element<Q, K>(p, w[0], keepByte, step, zp, l, counter);
                accumulate<true, true>(acc, w, v, 1);
            } else {
                fastQuad<Q, K, C>(p, w, keepByte ? 1u : 0u, 1, v, acc, o);
            }
            if (p.out) p.out[i] = v[0];
        }
    } else {
        for (long long i = first; i < p.n; i += stride) {
            const long long r = i / p.cols, col = i - r * p.cols;
            const long long unit = p.unitMode == kChannel ? col : (r / p.groupSize) * p.cols + col;
            const float w[4] = {p.in[i], 0.f, 0.f, 0.f};
            const bool keepByte = K == KeepRule::Kind::Explicit && p.keep[i] != 0;
            float v[4] = {
                element<Q, K>(p, w[0], keepByte, p.steps[unit], p.zeroPoints[unit], l, counter),
                0.f, 0.f, 0.f};
            if (p.out) p.out[i] = v[0];
            accumulate<true, true>(acc, w, v, 1);
        }
    }

    // The counts (asm without a memory clobber, so that the compiler keeps the offsets and
    // parameters in registers) are done before the barrier below.
    acc.flush();
    asm volatile("" ::: "memory");
    finishBlock(acc, p, sharedCounts, ways);
}

}  // namespace
}  // namespace cwb::cuda
