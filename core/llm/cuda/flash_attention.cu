// Tensor-core causal attention for the batched prefill; see flash_attention.cuh.
//
// A block of four warps takes 64 queries of one head of one sequence; each warp holds 16
// queries' q fragments, scores and output in registers (the layouts of mma.m16n8k16: a score
// tile's accumulators are the next product's A operand as they stand). Keys and transposed
// values pass through shared memory 64 keys at a time, rows padded by 16 bytes so that the
// fragment loads of a warp hit 32 different banks.
#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <cmath>
#include <cstdint>
#include <string>
#include <type_traits>

#include "core/llm/cuda/cuda_util.cuh"
#include "core/llm/cuda/flash_attention.cuh"

namespace cwb::cudallm {

namespace {

constexpr int kQueries = 64;  // per block, 16 per warp
constexpr int kThreads = 128;
constexpr unsigned kFull = 0xffffffffu;

template <typename T>
__device__ __forceinline__ std::uint32_t pack(float lo, float hi);
template <>
__device__ __forceinline__ std::uint32_t pack<__half>(float lo, float hi) {
    const __half2 v = __floats2half2_rn(lo, hi);
    return *reinterpret_cast<const std::uint32_t*>(&v);
}
template <>
__device__ __forceinline__ std::uint32_t pack<__nv_bfloat16>(float lo, float hi) {
    const __nv_bfloat162 v = __floats2bfloat162_rn(lo, hi);
    return *reinterpret_cast<const std::uint32_t*>(&v);
}

// c += a b for a 16x16 A (row-major fragments) and a 16x8 B (column-major), float32 sums.
template <typename T>
__device__ __forceinline__ void mma(float (&c)[4], const std::uint32_t (&a)[4], std::uint32_t b0,
                                    std::uint32_t b1) {
    if constexpr (std::is_same_v<T, __half>)
        asm volatile(
            "mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, "
            "{%8,%9}, {%0,%1,%2,%3};\n"
            : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
            : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
    else
        asm volatile(
            "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, "
            "{%8,%9}, {%0,%1,%2,%3};\n"
            : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
            : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}

template <typename T>
__device__ __forceinline__ std::uint32_t word(const T* at) {
    return *reinterpret_cast<const std::uint32_t*>(at);
}

template <typename T, int D>
__global__ void __launch_bounds__(kThreads) flashKernel(FlashArgs a, float scaleLog2) {
    constexpr int kKeyStride = D + 8;             // halves per key row in shared memory
    constexpr int kValueStride = kFlashKeys + 8;  // halves per value dimension
    __shared__ __align__(16) T keys[kFlashKeys * kKeyStride];
    __shared__ __align__(16) T values[D * kValueStride];

    const int tiles = (a.length + kQueries - 1) / kQueries;
    const int tile = tiles - 1 - static_cast<int>(blockIdx.x);  // the longest rows first
    const int head = blockIdx.y, seq = blockIdx.z;
    const int kvHead = head / (a.heads / a.kvHeads);
    const int warp = threadIdx.x / 32, lane = threadIdx.x % 32, g = lane >> 2, tg = lane & 3;
    const int qDim = a.heads * D, kvDim = a.kvHeads * D;
    const long long rowBase = static_cast<long long>(seq) * a.length;
    const int q0 = tile * kQueries + warp * 16;  // this warp's first query
    const int r0 = q0 + g, r1 = q0 + g + 8;      // the two rows a lane holds
    const T* q = static_cast<const T*>(a.q);
    const T* k = static_cast<const T*>(a.k);
    const T* vt = static_cast<const T*>(a.vt) +
                  (static_cast<long long>(seq) * a.kvHeads + kvHead) * D * a.paddedLength;

    std::uint32_t qf[D / 16][4];
    {
        const T* row0 = q + (rowBase + min(r0, a.length - 1)) * qDim + head * D + tg * 2;
        const T* row1 = q + (rowBase + min(r1, a.length - 1)) * qDim + head * D + tg * 2;
#pragma unroll
        for (int s = 0; s < D / 16; ++s) {
            qf[s][0] = word(row0 + s * 16);
            qf[s][1] = word(row1 + s * 16);
            qf[s][2] = word(row0 + s * 16 + 8);
            qf[s][3] = word(row1 + s * 16 + 8);
        }
    }
    float o[D / 8][4] = {};
    float m0 = -INFINITY, m1 = -INFINITY, l0 = 0.f, l1 = 0.f;

    for (int kt = 0; kt <= tile; ++kt) {
        const int k0 = kt * kFlashKeys;
        __syncthreads();  // the previous tile's readers are done
        for (int i = threadIdx.x; i < kFlashKeys * D / 8; i += kThreads) {
            const int key = i / (D / 8), c = i % (D / 8) * 8;
            uint4 v = make_uint4(0, 0, 0, 0);
            if (k0 + key < a.length)
                v = *reinterpret_cast<const uint4*>(k + (rowBase + k0 + key) * kvDim + kvHead * D +
                                                    c);
            *reinterpret_cast<uint4*>(&keys[key * kKeyStride + c]) = v;
        }
        for (int i = threadIdx.x; i < D * kFlashKeys / 8; i += kThreads) {
            const int d = i / (kFlashKeys / 8), c = i % (kFlashKeys / 8) * 8;
            *reinterpret_cast<uint4*>(&values[d * kValueStride + c]) =
                *reinterpret_cast<const uint4*>(vt + static_cast<long long>(d) * a.paddedLength +
                                                k0 + c);
        }
        __syncthreads();

        float s[kFlashKeys / 8][4] = {};
#pragma unroll
        for (int n = 0; n < kFlashKeys / 8; ++n)
#pragma unroll
            for (int step = 0; step < D / 16; ++step) {
                const T* kr = &keys[(n * 8 + g) * kKeyStride + step * 16 + tg * 2];
                mma<T>(s[n], qf[step], word(kr), word(kr + 8));
            }
        // Scores in log2 units; on the diagonal tile, keys after the query are masked (keys
        // past the sequence are always after its queries).
        const bool diagonal = kt == tile;
        float top0 = -INFINITY, top1 = -INFINITY;
#pragma unroll
        for (int n = 0; n < kFlashKeys / 8; ++n)
#pragma unroll
            for (int e = 0; e < 4; ++e) {
                const int key = k0 + n * 8 + tg * 2 + (e & 1);
                const int query = e < 2 ? r0 : r1;
                float v = s[n][e] * scaleLog2;
                if (diagonal && key > query) v = -INFINITY;
                s[n][e] = v;
                if (e < 2)
                    top0 = fmaxf(top0, v);
                else
                    top1 = fmaxf(top1, v);
            }
        top0 = fmaxf(top0, __shfl_xor_sync(kFull, top0, 1));
        top0 = fmaxf(top0, __shfl_xor_sync(kFull, top0, 2));
        top1 = fmaxf(top1, __shfl_xor_sync(kFull, top1, 1));
        top1 = fmaxf(top1, __shfl_xor_sync(kFull, top1, 2));
        const float new0 = fmaxf(m0, top0), new1 = fmaxf(m1, top1);
        const float rescale0 = exp2f(m0 - new0), rescale1 = exp2f(m1 - new1);
        m0 = new0;
        m1 = new1;
        float sum0 = 0.f, sum1 = 0.f;  // this lane's part of the rows' sums
#pragma unroll
        for (int n = 0; n < kFlashKeys / 8; ++n) {
            s[n][0] = exp2f(s[n][0] - new0);
            s[n][1] = exp2f(s[n][1] - new0);
            s[n][2] = exp2f(s[n][2] - new1);
            s[n][3] = exp2f(s[n][3] - new1);
            sum0 += s[n][0] + s[n][1];
            sum1 += s[n][2] + s[n][3];
        }
        l0 = l0 * rescale0 + sum0;
        l1 = l1 * rescale1 + sum1;
#pragma unroll
        for (int n = 0; n < D / 8; ++n) {
            o[n][0] *= rescale0;
            o[n][1] *= rescale0;
            o[n][2] *= rescale1;
            o[n][3] *= rescale1;
        }
#pragma unroll
        for (int step = 0; step < kFlashKeys / 16; ++step) {
            const std::uint32_t p[4] = {pack<T>(s[2 * step][0], s[2 * step][1]),
                                        pack<T>(s[2 * step][2], s[2 * step][3]),
                                        pack<T>(s[2 * step + 1][0], s[2 * step + 1][1]),
                                        pack<T>(s[2 * step + 1][2], s[2 * step + 1][3])};
#pragma unroll
            for (int n = 0; n < D / 8; ++n) {
                const T* vr = &values[(n * 8 + g) * kValueStride + step * 16 + tg * 2];
                mma<T>(o[n], p, word(vr), word(vr + 8));
            }
        }
    }
    l0 += __shfl_xor_sync(kFull, l0, 1);
    l0 += __shfl_xor_sync(kFull, l0, 2);
    l1 += __shfl_xor_sync(kFull, l1, 1);
    l1 += __shfl_xor_sync(kFull, l1, 2);
    const float inv0 = 1.f / l0, inv1 = 1.f / l1;
    T* out = static_cast<T*>(a.out);
#pragma unroll
    for (int n = 0; n < D / 8; ++n) {
        const int c = head * D + n * 8 + tg * 2;
        if (r0 < a.length)
            *reinterpret_cast<std::uint32_t*>(out + (rowBase + r0) * qDim + c) =
                pack<T>(o[n][0] * inv0, o[n][1] * inv0);
        if (r1 < a.length)
            *reinterpret_cast<std::uint32_t*>(out + (rowBase + r1) * qDim + c) =
                pack<T>(o[n][2] * inv1, o[n][3] * inv1);
    }
}

template <typename T, int D>
void launch(const FlashArgs& a, cudaStream_t stream) {
    const float scaleLog2 = static_cast<float>(1.4426950408889634 / std::sqrt(double(D)));
    const dim3 grid((a.length + kQueries - 1) / kQueries, a.heads, a.sequences);
    flashKernel<T, D><<<grid, kThreads, 0, stream>>>(a, scaleLog2);
}

template <typename T>
void launchFor(const FlashArgs& a, cudaStream_t stream) {
    switch (a.headDim) {
        case 32:
            return launch<T, 32>(a, stream);
        case 64:
            return launch<T, 64>(a, stream);
        case 128:
            return launch<T, 128>(a, stream);
        default:
            throw Error("CUDA: head size " + std::to_string(a.headDim) +
                        " has no batched attention kernel (32, 64 or 128)");
    }
}

}  // namespace

bool flashSupports(int headDim) { return headDim == 32 || headDim == 64 || headDim == 128; }

void flashAttention(const FlashArgs& args, bool bf16, cudaStream_t stream) {
    if (args.sequences <= 0 || args.length <= 0) return;
    if (bf16)
        launchFor<__nv_bfloat16>(args, stream);
    else
        launchFor<__half>(args, stream);
    checkLaunch("batched attention");
}

}  // namespace cwb::cudallm
