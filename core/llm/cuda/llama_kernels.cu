// The Llama pass's element-wise and attention kernels; see llama_kernels.cuh.
#include <cfloat>
#include <string>

#include "core/llm/cuda/cuda_util.cuh"
#include "core/llm/cuda/llama_kernels.cuh"

namespace cwb::cudallm {

namespace {

constexpr unsigned kFull = 0xffffffffu;
// Queries at or under this go to the one-query-per-block kernel (generation).
constexpr int kFewQueries = 8;
constexpr int kQueryTile = 64;  // queries per block of the tiled kernel, one per thread

// Sum or max over a block of blockDim.x threads (a multiple of 32, at most 1024).
template <bool Max>
__device__ float blockReduce(float v, float* shared) {
    for (int o = 16; o > 0; o >>= 1) {
        const float other = __shfl_xor_sync(kFull, v, o);
        v = Max ? fmaxf(v, other) : v + other;
    }
    const int warp = threadIdx.x / 32, lane = threadIdx.x % 32, warps = blockDim.x / 32;
    __syncthreads();  // `shared` may still be read by a previous reduction
    if (lane == 0) shared[warp] = v;
    __syncthreads();
    v = lane < warps ? shared[lane] : (Max ? -FLT_MAX : 0.f);
    for (int o = 16; o > 0; o >>= 1) {
        const float other = __shfl_xor_sync(kFull, v, o);
        v = Max ? fmaxf(v, other) : v + other;
    }
    return v;
}

__global__ void rmsNormKernel(const float* x, const float* weight, int width, float eps,
                              float* out) {
    __shared__ float shared[32];
    const float* in = x + static_cast<long long>(blockIdx.x) * width;
    float* o = out + static_cast<long long>(blockIdx.x) * width;
    float sum = 0.f;
    for (int i = threadIdx.x; i < width; i += blockDim.x) sum = fmaf(in[i], in[i], sum);
    sum = blockReduce<false>(sum, shared);
    const float scale = 1.f / sqrtf(sum / width + eps);
    for (int i = threadIdx.x; i < width; i += blockDim.x) o[i] = weight[i] * (in[i] * scale);
}

__global__ void ropeKernel(float* rows, int stride, int heads, int headDim, const int* at,
                           const float* cosTable, const float* sinTable, bool adjacent) {
    const int t = blockIdx.x, half = headDim / 2, position = *at;
    const float* c = cosTable + static_cast<long long>(position + t) * half;
    const float* s = sinTable + static_cast<long long>(position + t) * half;
    for (int k = threadIdx.x; k < heads * half; k += blockDim.x) {
        const int head = k / half, i = k % half;
        float* v = rows + static_cast<long long>(t) * stride + head * headDim;
        const int a = adjacent ? 2 * i : i;
        const int b = adjacent ? 2 * i + 1 : i + half;
        const float x0 = v[a], x1 = v[b];
        v[a] = x0 * c[i] - x1 * s[i];
        v[b] = x1 * c[i] + x0 * s[i];
    }
}

// Many queries: one thread per query (its q and output row in registers), keys and values
// streamed through shared memory a tile at a time, softmax online (rescaled once per tile).
template <int D, int KT>
__global__ void __launch_bounds__(kQueryTile)
    attentionTiled(AttentionArgs a, int group, float scale) {
    __shared__ float ks[KT][D], vs[KT][D];
    const int head = blockIdx.y, kvHead = head / group;
    const int qDim = a.heads * D, kvDim = a.kvHeads * D;
    const int t = blockIdx.x * kQueryTile + threadIdx.x;
    const bool active = t < a.tokens;
    const int pos = a.position + t;
    const int last = a.position + min(a.tokens, (blockIdx.x + 1) * kQueryTile) - 1;
    float q[D], acc[D];
#pragma unroll
    for (int d = 0; d < D; ++d) {
        q[d] = active ? a.q[static_cast<long long>(t) * qDim + head * D + d] : 0.f;
        acc[d] = 0.f;
    }
    float top = -FLT_MAX, sum = 0.f;
    for (int j0 = 0; j0 <= last; j0 += KT) {
        for (int k = threadIdx.x; k < KT * D; k += kQueryTile) {
            const int j = j0 + k / D, d = k % D;
            const long long at = static_cast<long long>(j) * kvDim + kvHead * D + d;
            ks[k / D][d] = j <= last ? a.keys[at] : 0.f;
            vs[k / D][d] = j <= last ? a.values[at] : 0.f;
        }
        __syncthreads();
        if (active && j0 <= pos) {
            float s[KT];
            float tileTop = -FLT_MAX;
#pragma unroll
            for (int j = 0; j < KT; ++j) {
                float dot = 0.f;
#pragma unroll
                for (int d = 0; d < D; ++d) dot = fmaf(q[d], ks[j][d], dot);
                s[j] = dot * scale;
                if (j0 + j <= pos) tileTop = fmaxf(tileTop, s[j]);
            }
            const float newTop = fmaxf(top, tileTop);
            const float rescale = expf(top - newTop);
            sum *= rescale;
#pragma unroll
            for (int d = 0; d < D; ++d) acc[d] *= rescale;
#pragma unroll
            for (int j = 0; j < KT; ++j) {
                const float p = j0 + j <= pos ? expf(s[j] - newTop) : 0.f;
                sum += p;
#pragma unroll
                for (int d = 0; d < D; ++d) acc[d] = fmaf(p, vs[j][d], acc[d]);
            }
            top = newTop;
        }
        __syncthreads();
    }
    if (!active) return;
    const float inv = 1.f / sum;
#pragma unroll
    for (int d = 0; d < D; ++d)
        a.out[static_cast<long long>(t) * qDim + head * D + d] = acc[d] * inv;
}

// Few queries (generation): a block of kFewThreads per (head, query); a thread per key for the
// scores (the head's dot product unrolled, so its loads are in flight together), then each
// value dimension summed over keys by kFewThreads / D threads with four sums each.
constexpr int kFewThreads = 256;

template <int D>
__global__ void __launch_bounds__(kFewThreads)
    attentionFew(AttentionArgs a, int group, float scale) {
    __shared__ float q[D], partial[kFewThreads], reduce[32];
    const int head = blockIdx.x, t = blockIdx.y, kvHead = head / group;
    const int qDim = a.heads * D, kvDim = a.kvHeads * D;
    const int valid = *a.devicePosition + t + 1;  // the causal mask
    float* scores = a.scratch + (static_cast<long long>(head) * a.tokens + t) * a.capacity;
    const float* __restrict__ keys = a.keys + kvHead * D;
    const float* __restrict__ values = a.values + kvHead * D;
    for (int d = threadIdx.x; d < D; d += kFewThreads)
        q[d] = a.q[static_cast<long long>(t) * qDim + head * D + d];
    __syncthreads();
    float top = -FLT_MAX;
    for (int j = threadIdx.x; j < valid; j += kFewThreads) {
        const float4* k = reinterpret_cast<const float4*>(keys + static_cast<long long>(j) * kvDim);
        float dot = 0.f;
#pragma unroll
        for (int d = 0; d < D / 4; ++d) {
            const float4 v = k[d];
            dot = fmaf(q[4 * d], v.x, dot);
            dot = fmaf(q[4 * d + 1], v.y, dot);
            dot = fmaf(q[4 * d + 2], v.z, dot);
            dot = fmaf(q[4 * d + 3], v.w, dot);
        }
        scores[j] = dot * scale;
        top = fmaxf(top, scores[j]);
    }
    top = blockReduce<true>(top, reduce);
    float sum = 0.f;
    for (int j = threadIdx.x; j < valid; j += kFewThreads) {
        const float e = expf(scores[j] - top);
        scores[j] = e;
        sum += e;
    }
    sum = blockReduce<false>(sum, reduce);  // its barriers also publish the scores
    constexpr int kParts = kFewThreads / D;
    const int d = threadIdx.x % D, part = threadIdx.x / D;
    float acc[4] = {};
    int j = part;
    for (; j + 3 * kParts < valid; j += 4 * kParts)
#pragma unroll
        for (int u = 0; u < 4; ++u)
            acc[u] = fmaf(scores[j + u * kParts],
                          values[static_cast<long long>(j + u * kParts) * kvDim + d], acc[u]);
    for (; j < valid; j += kParts)
        acc[0] = fmaf(scores[j], values[static_cast<long long>(j) * kvDim + d], acc[0]);
    partial[threadIdx.x] = (acc[0] + acc[1]) + (acc[2] + acc[3]);
    __syncthreads();
    if (threadIdx.x < D) {
        float total = 0.f;
        for (int p = 0; p < kParts; ++p) total += partial[p * D + threadIdx.x];
        a.out[static_cast<long long>(t) * qDim + head * D + threadIdx.x] = total / sum;
    }
}

template <int D>
void launchFew(const AttentionArgs& a, float scale, cudaStream_t stream) {
    attentionFew<D>
        <<<dim3(a.heads, a.tokens), kFewThreads, 0, stream>>>(a, a.heads / a.kvHeads, scale);
}

template <int D>
void launchTiled(const AttentionArgs& a, float scale, cudaStream_t stream) {
    constexpr int kKeys = D <= 64 ? 32 : 16;  // keeps q, the output row and scores in registers
    const dim3 grid((a.tokens + kQueryTile - 1) / kQueryTile, a.heads);
    attentionTiled<D, kKeys><<<grid, kQueryTile, 0, stream>>>(a, a.heads / a.kvHeads, scale);
}

__global__ void storeKernel(const float* rows, long long n, int width, const int* at,
                            float* cache) {
    float* to = cache + static_cast<long long>(*at) * width;
    for (long long i = static_cast<long long>(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
         i += static_cast<long long>(gridDim.x) * blockDim.x)
        to[i] = rows[i];
}

__global__ void swigluKernel(float* gate, const float* up, long long n) {
    for (long long i = static_cast<long long>(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
         i += static_cast<long long>(gridDim.x) * blockDim.x) {
        const float g = gate[i];
        gate[i] = g / (1.f + expf(-g)) * up[i];
    }
}

}  // namespace

void rmsNorm(const float* x, const float* weight, int rows, int width, float eps, float* out,
             cudaStream_t stream) {
    rmsNormKernel<<<rows, 256, 0, stream>>>(x, weight, width, eps, out);
    checkLaunch("RMSNorm");
}

void rope(float* rows, int tokens, int stride, int heads, int headDim, const int* position,
          const float* cosTable, const float* sinTable, RopeLayout layout, cudaStream_t stream) {
    ropeKernel<<<tokens, 256, 0, stream>>>(rows, stride, heads, headDim, position, cosTable,
                                           sinTable, layout == RopeLayout::AdjacentPairs);
    checkLaunch("RoPE");
}

void storeRows(const float* rows, int tokens, int width, const int* position, float* cache,
               cudaStream_t stream) {
    const long long n = static_cast<long long>(tokens) * width;
    storeKernel<<<gridFor(n, 256), 256, 0, stream>>>(rows, n, width, position, cache);
    checkLaunch("storing keys and values");
}

long long attentionScratch(int tokens, int heads, int capacity) {
    return tokens <= kFewQueries ? static_cast<long long>(heads) * tokens * capacity : 0;
}

void attention(const AttentionArgs& a, cudaStream_t stream) {
    const float scale = 1.f / sqrtf(static_cast<float>(a.headDim));
    const bool few = a.tokens <= kFewQueries;
    switch (a.headDim) {
        case 16:
            few ? launchFew<16>(a, scale, stream) : launchTiled<16>(a, scale, stream);
            break;
        case 32:
            few ? launchFew<32>(a, scale, stream) : launchTiled<32>(a, scale, stream);
            break;
        case 64:
            few ? launchFew<64>(a, scale, stream) : launchTiled<64>(a, scale, stream);
            break;
        case 80:
            few ? launchFew<80>(a, scale, stream) : launchTiled<80>(a, scale, stream);
            break;
        case 96:
            few ? launchFew<96>(a, scale, stream) : launchTiled<96>(a, scale, stream);
            break;
        case 128:
            few ? launchFew<128>(a, scale, stream) : launchTiled<128>(a, scale, stream);
            break;
        default:
            throw Error("CUDA: head size " + std::to_string(a.headDim) +
                        " has no attention kernel (16, 32, 64, 80, 96 or 128)");
    }
    checkLaunch("attention");
}

void swiglu(float* gate, const float* up, long long n, cudaStream_t stream) {
    swigluKernel<<<gridFor(n, 256), 256, 0, stream>>>(gate, up, n);
    checkLaunch("SwiGLU");
}

}  // namespace cwb::cudallm
