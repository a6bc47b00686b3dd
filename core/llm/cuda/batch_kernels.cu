// The batched prefill's element-wise kernels; see batch_kernels.cuh.
#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include "core/llm/cuda/batch_kernels.cuh"
#include "core/llm/cuda/cuda_util.cuh"

namespace cwb::cudallm {

namespace {

constexpr unsigned kFull = 0xffffffffu;

__device__ __forceinline__ float toFloat(__half v) { return __half2float(v); }
__device__ __forceinline__ float toFloat(__nv_bfloat16 v) { return __bfloat162float(v); }
template <typename T>
__device__ __forceinline__ T fromFloat(float v);
template <>
__device__ __forceinline__ __half fromFloat<__half>(float v) {
    return __float2half_rn(v);
}
template <>
__device__ __forceinline__ __nv_bfloat16 fromFloat<__nv_bfloat16>(float v) {
    return __float2bfloat16_rn(v);
}

template <typename T>
__global__ void rmsNormKernel(const float* x, const float* weight, int width, float eps, T* out) {
    __shared__ float partial[32];
    const float* in = x + static_cast<long long>(blockIdx.x) * width;
    T* o = out + static_cast<long long>(blockIdx.x) * width;
    float sum = 0.f;
    for (int i = threadIdx.x; i < width; i += blockDim.x) sum = fmaf(in[i], in[i], sum);
    for (int d = 16; d > 0; d >>= 1) sum += __shfl_xor_sync(kFull, sum, d);
    if (threadIdx.x % 32 == 0) partial[threadIdx.x / 32] = sum;
    __syncthreads();
    const unsigned lane = threadIdx.x % 32;
    sum = lane < blockDim.x / 32 ? partial[lane] : 0.f;  // every warp takes the total
    for (int d = 16; d > 0; d >>= 1) sum += __shfl_xor_sync(kFull, sum, d);
    const float scale = 1.f / sqrtf(sum / width + eps);
    for (int i = threadIdx.x; i < width; i += blockDim.x)
        o[i] = fromFloat<T>(weight[i] * (in[i] * scale));
}

// One thread per rotated pair.
template <typename T>
__global__ void ropeKernel(T* rows, long long pairs, int length, int stride, int heads, int headDim,
                           const float* cosTable, const float* sinTable, bool adjacent) {
    const int half = headDim / 2, perRow = heads * half;
    for (long long k = static_cast<long long>(blockIdx.x) * blockDim.x + threadIdx.x; k < pairs;
         k += static_cast<long long>(gridDim.x) * blockDim.x) {
        const long long row = k / perRow;
        const int within = static_cast<int>(k % perRow), head = within / half, i = within % half;
        const long long position = row % length;
        T* v = rows + row * stride + head * headDim;
        const int a = adjacent ? 2 * i : i;
        const int b = adjacent ? 2 * i + 1 : i + half;
        const float c = cosTable[position * half + i], s = sinTable[position * half + i];
        const float x0 = toFloat(v[a]), x1 = toFloat(v[b]);
        v[a] = fromFloat<T>(x0 * c - x1 * s);
        v[b] = fromFloat<T>(x1 * c + x0 * s);
    }
}

template <typename T>
__global__ void transposeKernel(const T* v, long long n, int length, int paddedLength, int kvHeads,
                                int headDim, T* vt) {
    const int kvDim = kvHeads * headDim;
    for (long long i = static_cast<long long>(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
         i += static_cast<long long>(gridDim.x) * blockDim.x) {
        const int t = static_cast<int>(i % paddedLength);
        const long long rest = i / paddedLength;
        const int d = static_cast<int>(rest % headDim);
        const long long sh = rest / headDim;  // sequence * kvHeads + head
        const int h = static_cast<int>(sh % kvHeads);
        const long long s = sh / kvHeads;
        vt[i] = t < length ? v[(s * length + t) * kvDim + h * headDim + d] : fromFloat<T>(0.f);
    }
}

template <typename T>
__global__ void swigluKernel(T* gate, const T* up, long long n) {
    for (long long i = static_cast<long long>(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
         i += static_cast<long long>(gridDim.x) * blockDim.x) {
        const float g = toFloat(gate[i]);
        gate[i] = fromFloat<T>(g / (1.f + expf(-g)) * toFloat(up[i]));
    }
}

template <typename T>
void rmsNormAs(const float* x, const float* weight, int rows, int width, float eps, void* out,
               cudaStream_t stream) {
    rmsNormKernel<T><<<rows, 256, 0, stream>>>(x, weight, width, eps, static_cast<T*>(out));
}

template <typename T>
void ropeAs(void* rows, long long count, int length, int stride, int heads, int headDim,
            const float* cosTable, const float* sinTable, bool adjacent, cudaStream_t stream) {
    const long long pairs = count * heads * (headDim / 2);
    ropeKernel<T><<<gridFor(pairs, 256), 256, 0, stream>>>(
        static_cast<T*>(rows), pairs, length, stride, heads, headDim, cosTable, sinTable, adjacent);
}

template <typename T>
void transposeAs(const void* v, int sequences, int length, int paddedLength, int kvHeads,
                 int headDim, void* vt, cudaStream_t stream) {
    const long long n = static_cast<long long>(sequences) * kvHeads * headDim * paddedLength;
    transposeKernel<T><<<gridFor(n, 256), 256, 0, stream>>>(
        static_cast<const T*>(v), n, length, paddedLength, kvHeads, headDim, static_cast<T*>(vt));
}

template <typename T>
void swigluAs(void* gate, const void* up, long long n, cudaStream_t stream) {
    swigluKernel<T>
        <<<gridFor(n, 256), 256, 0, stream>>>(static_cast<T*>(gate), static_cast<const T*>(up), n);
}

}  // namespace

void rmsNorm16(const float* x, const float* weight, int rows, int width, float eps, void* out,
               bool bf16, cudaStream_t stream) {
    if (bf16)
        rmsNormAs<__nv_bfloat16>(x, weight, rows, width, eps, out, stream);
    else
        rmsNormAs<__half>(x, weight, rows, width, eps, out, stream);
    checkLaunch("RMSNorm (batch)");
}

void rope16(void* rows, long long count, int length, int stride, int heads, int headDim,
            const float* cosTable, const float* sinTable, RopeLayout layout, bool bf16,
            cudaStream_t stream) {
    const bool adjacent = layout == RopeLayout::AdjacentPairs;
    if (bf16)
        ropeAs<__nv_bfloat16>(rows, count, length, stride, heads, headDim, cosTable, sinTable,
                              adjacent, stream);
    else
        ropeAs<__half>(rows, count, length, stride, heads, headDim, cosTable, sinTable, adjacent,
                       stream);
    checkLaunch("RoPE (batch)");
}

void transposeValues(const void* v, int sequences, int length, int paddedLength, int kvHeads,
                     int headDim, void* vt, bool bf16, cudaStream_t stream) {
    if (bf16)
        transposeAs<__nv_bfloat16>(v, sequences, length, paddedLength, kvHeads, headDim, vt,
                                   stream);
    else
        transposeAs<__half>(v, sequences, length, paddedLength, kvHeads, headDim, vt, stream);
    checkLaunch("transposing values");
}

void swiglu16(void* gate, const void* up, long long n, bool bf16, cudaStream_t stream) {
    if (bf16)
        swigluAs<__nv_bfloat16>(gate, up, n, stream);
    else
        swigluAs<__half>(gate, up, n, stream);
    checkLaunch("SwiGLU (batch)");
}

}  // namespace cwb::cudallm
