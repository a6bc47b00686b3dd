// The GPU's matrix products for the Llama pass; see matmul.cuh.
#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <algorithm>
#include <iterator>

#include "core/llm/cuda/matmul.cuh"

namespace cwb::cudallm {

namespace {

constexpr int kWarp = 32;
constexpr int kRowsPerBlock = 4;  // one warp per output row
constexpr unsigned kFull = 0xffffffffu;
constexpr int kLow = 0x0F0F0F0F;

__device__ __forceinline__ float warpSum(float v) {
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(kFull, v, o);
    return v;
}

__device__ __forceinline__ int dot4(int4 a, int4 b, int acc) {
    acc = __dp4a(a.x, b.x, acc);
    acc = __dp4a(a.y, b.y, acc);
    acc = __dp4a(a.z, b.z, acc);
    return __dp4a(a.w, b.w, acc);
}
__device__ __forceinline__ int4 lowNibbles(int4 v) {
    return make_int4(v.x & kLow, v.y & kLow, v.z & kLow, v.w & kLow);
}
__device__ __forceinline__ int4 highNibbles(int4 v) {
    return make_int4((v.x >> 4) & kLow, (v.y >> 4) & kLow, (v.z >> 4) & kLow, (v.w >> 4) & kLow);
}

// Q4_K's 6-bit scale and minimum of sub-block j (0..7) from its 12 packed bytes.
__device__ __forceinline__ void scaleMinK4(const unsigned char* q, int j, int& sc, int& m) {
    if (j < 4) {
        sc = q[j] & 63;
        m = q[j + 4] & 63;
    } else {
        sc = (q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4);
        m = (q[j + 4] >> 4) | ((q[j] >> 6) << 4);
    }
}

// Activations [n, cols] to int8 per 32 values: scale = max|x| / 127, codes round(x / scale),
// and each block's code sum (Q4_0's offset and Q4_K's minimums need it). One warp per block.
__global__ void quantizeRows(const float* x, long long blocks, signed char* q, float* d, int* s) {
    const long long b = (static_cast<long long>(blockIdx.x) * blockDim.x + threadIdx.x) / kWarp;
    const int lane = threadIdx.x % kWarp;
    if (b >= blocks) return;
    const float v = x[b * kWarp + lane];
    float amax = fabsf(v);
    for (int o = 16; o > 0; o >>= 1) amax = fmaxf(amax, __shfl_xor_sync(kFull, amax, o));
    const float scale = amax / 127.f;
    const int code = amax == 0.f ? 0 : __float2int_rn(v / scale);
    int sum = code;
    for (int o = 16; o > 0; o >>= 1) sum += __shfl_xor_sync(kFull, sum, o);
    q[b * kWarp + lane] = static_cast<signed char>(code);
    if (lane == 0) {
        d[b] = scale;
        s[b] = sum;
    }
}

template <int NT>
__global__ void matvecQ8_0(const signed char* w, const __half* wd, int rows, int cols,
                           const signed char* xq, const float* xd, float* y, bool accumulate) {
    const int row = blockIdx.x * kRowsPerBlock + threadIdx.x / kWarp;
    const int lane = threadIdx.x % kWarp;
    if (row >= rows) return;
    const int nb = cols / 32;
    float acc[NT] = {};
    const signed char* wr = w + static_cast<long long>(row) * cols;
#pragma unroll 4
    for (int h = lane; h < 2 * nb; h += kWarp) {  // half a block (16 codes) per lane
        const int b = h >> 1;
        const int4 wv = *reinterpret_cast<const int4*>(wr + h * 16);
        const float scale = __half2float(wd[static_cast<long long>(row) * nb + b]);
#pragma unroll
        for (int t = 0; t < NT; ++t) {
            const int4 xv =
                *reinterpret_cast<const int4*>(xq + static_cast<long long>(t) * cols + h * 16);
            acc[t] = fmaf(static_cast<float>(dot4(wv, xv, 0)) * scale, xd[t * nb + b], acc[t]);
        }
    }
#pragma unroll
    for (int t = 0; t < NT; ++t) {
        const float v = warpSum(acc[t]);
        float* out = y + static_cast<long long>(t) * rows + row;
        if (lane == 0) *out = accumulate ? *out + v : v;
    }
}

template <int NT>
__global__ void matvecQ4_0(const unsigned char* w, const __half* wd, int rows, int cols,
                           const signed char* xq, const float* xd, const int* xs, float* y,
                           bool accumulate) {
    const int row = blockIdx.x * kRowsPerBlock + threadIdx.x / kWarp;
    const int lane = threadIdx.x % kWarp;
    if (row >= rows) return;
    const int nb = cols / 32;
    float acc[NT] = {};
#pragma unroll 2
    for (int b = lane; b < nb; b += kWarp) {  // one block (32 codes in 16 bytes) per lane
        const long long blk = static_cast<long long>(row) * nb + b;
        const int4 wv = *reinterpret_cast<const int4*>(w + blk * 16);
        const int4 lo = lowNibbles(wv), hi = highNibbles(wv);
        const float scale = __half2float(wd[blk]);
#pragma unroll
        for (int t = 0; t < NT; ++t) {
            const int4* xv =
                reinterpret_cast<const int4*>(xq + static_cast<long long>(t) * cols + b * 32);
            const int sum = dot4(hi, xv[1], dot4(lo, xv[0], 0)) - 8 * xs[t * nb + b];
            acc[t] = fmaf(static_cast<float>(sum) * scale, xd[t * nb + b], acc[t]);
        }
    }
#pragma unroll
    for (int t = 0; t < NT; ++t) {
        const float v = warpSum(acc[t]);
        float* out = y + static_cast<long long>(t) * rows + row;
        if (lane == 0) *out = accumulate ? *out + v : v;
    }
}

template <int NT>
__global__ void matvecQ4_K(const unsigned char* w, const __half2* dm, const unsigned char* packed,
                           int rows, int cols, const signed char* xq, const float* xd, float* y,
                           bool accumulate) {
    const int row = blockIdx.x * kRowsPerBlock + threadIdx.x / kWarp;
    const int lane = threadIdx.x % kWarp;
    if (row >= rows) return;
    const int nsb = cols / 256, nb = cols / 32;
    float acc[NT] = {};
    // A lane takes 16 bytes of a super-block's codes: 16 values of sub-block 2c (low nibbles)
    // and 16 of sub-block 2c + 1 (high nibbles), c = part / 2.
    for (int i = lane; i < nsb * 8; i += kWarp) {
        const int sb = i >> 3, part = i & 7, c = part >> 1, k = part & 1;
        const long long blk = static_cast<long long>(row) * nsb + sb;
        const int4 wv = *reinterpret_cast<const int4*>(w + blk * 128 + c * 32 + k * 16);
        const int4 lo = lowNibbles(wv), hi = highNibbles(wv);
        const float2 dmin = __half22float2(dm[blk]);
        int sc0, m0, sc1, m1;
        scaleMinK4(packed + blk * 12, 2 * c, sc0, m0);
        scaleMinK4(packed + blk * 12, 2 * c + 1, sc1, m1);
        const int a0 = sb * 8 + 2 * c;  // the activation blocks of the two sub-blocks
#pragma unroll
        for (int t = 0; t < NT; ++t) {
            const signed char* xr = xq + static_cast<long long>(t) * cols;
            const int4 x0 = *reinterpret_cast<const int4*>(xr + a0 * 32 + k * 16);
            const int4 x1 = *reinterpret_cast<const int4*>(xr + (a0 + 1) * 32 + k * 16);
            const int ones = 0x01010101;
            const int4 one = make_int4(ones, ones, ones, ones);
            const float p0 = dmin.x * sc0 * dot4(lo, x0, 0) - dmin.y * m0 * dot4(one, x0, 0);
            const float p1 = dmin.x * sc1 * dot4(hi, x1, 0) - dmin.y * m1 * dot4(one, x1, 0);
            acc[t] = fmaf(p0, xd[t * nb + a0], fmaf(p1, xd[t * nb + a0 + 1], acc[t]));
        }
    }
#pragma unroll
    for (int t = 0; t < NT; ++t) {
        const float v = warpSum(acc[t]);
        float* out = y + static_cast<long long>(t) * rows + row;
        if (lane == 0) *out = accumulate ? *out + v : v;
    }
}

__device__ __forceinline__ float toFloat(float v) { return v; }
__device__ __forceinline__ float toFloat(__half v) { return __half2float(v); }
__device__ __forceinline__ float toFloat(__nv_bfloat16 v) { return __bfloat162float(v); }

// Plain types, float32 activations: 16 bytes of weights per lane and load.
template <typename T, int NT>
__global__ void matvecPlain(const T* w, int rows, int cols, const float* x, float* y,
                            bool accumulate) {
    const int row = blockIdx.x * kRowsPerBlock + threadIdx.x / kWarp;
    const int lane = threadIdx.x % kWarp;
    if (row >= rows) return;
    constexpr int kVec = 16 / sizeof(T);
    const T* wr = w + static_cast<long long>(row) * cols;
    float acc[NT] = {};
    const bool vector = cols % kVec == 0;
    const int vecEnd = vector ? cols : 0;
#pragma unroll 4
    for (int i = lane * kVec; i < vecEnd; i += kWarp * kVec) {
        const int4 raw = *reinterpret_cast<const int4*>(wr + i);
        const T* wv = reinterpret_cast<const T*>(&raw);
#pragma unroll
        for (int t = 0; t < NT; ++t) {
            const float* xr = x + static_cast<long long>(t) * cols + i;
#pragma unroll
            for (int e = 0; e < kVec; ++e) acc[t] = fmaf(toFloat(wv[e]), xr[e], acc[t]);
        }
    }
    for (int i = vecEnd + lane; i < cols; i += kWarp)  // rows of odd length, element-wise
        for (int t = 0; t < NT; ++t)
            acc[t] = fmaf(toFloat(wr[i]), x[static_cast<long long>(t) * cols + i], acc[t]);
#pragma unroll
    for (int t = 0; t < NT; ++t) {
        const float v = warpSum(acc[t]);
        float* out = y + static_cast<long long>(t) * rows + row;
        if (lane == 0) *out = accumulate ? *out + v : v;
    }
}

// Weight (row, col) as float32, for any DeviceMatrix type.
struct MatrixView {
    DType type;
    int cols;
    const void* codes;
    const void* scales;
    const unsigned char* kScales;

    __device__ float at(long long row, int col) const {
        switch (type) {
            case DType::F32:
                return static_cast<const float*>(codes)[row * cols + col];
            case DType::F16:
                return __half2float(static_cast<const __half*>(codes)[row * cols + col]);
            case DType::BF16:
                return __bfloat162float(static_cast<const __nv_bfloat16*>(codes)[row * cols + col]);
            case DType::Q8_0: {
                const long long blk = row * (cols / 32) + col / 32;
                return __half2float(static_cast<const __half*>(scales)[blk]) *
                       static_cast<const signed char*>(codes)[row * cols + col];
            }
            case DType::Q4_0: {
                const long long blk = row * (cols / 32) + col / 32;
                const int j = col % 32;
                const unsigned char byte =
                    static_cast<const unsigned char*>(codes)[blk * 16 + (j & 15)];
                const int q = (j < 16 ? byte & 15 : byte >> 4) - 8;
                return __half2float(static_cast<const __half*>(scales)[blk]) * q;
            }
            case DType::Q4_K: {
                const long long blk = row * (cols / 256) + col / 256;
                const int j = col % 256, c = j / 64, sub = j / 32, l = j % 32;
                const unsigned char byte =
                    static_cast<const unsigned char*>(codes)[blk * 128 + c * 32 + l];
                const int q = sub % 2 == 0 ? byte & 15 : byte >> 4;
                int sc, m;
                scaleMinK4(kScales + blk * 12, sub, sc, m);
                const float2 dmin = __half22float2(static_cast<const __half2*>(scales)[blk]);
                return dmin.x * sc * q - dmin.y * m;
            }
            default:
                return 0.f;
        }
    }
};

MatrixView viewOf(const DeviceMatrix& w) {
    return {w.type, w.cols, w.codes.as<void>(), w.scales.as<void>(), w.kScales.as<unsigned char>()};
}

__global__ void widenToHalf(MatrixView w, long long elements, __half* out) {
    for (long long i = static_cast<long long>(blockIdx.x) * blockDim.x + threadIdx.x; i < elements;
         i += static_cast<long long>(gridDim.x) * blockDim.x)
        out[i] = __float2half_rn(w.at(i / w.cols, static_cast<int>(i % w.cols)));
}

__global__ void gatherRows(MatrixView w, const int* ids, int n, float* out) {
    const int t = blockIdx.x;
    if (t >= n) return;
    for (int c = threadIdx.x; c < w.cols; c += blockDim.x)
        out[static_cast<long long>(t) * w.cols + c] = w.at(ids[t], c);
}

__global__ void toHalf(const float* x, long long n, __half* out) {
    for (long long i = static_cast<long long>(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
         i += static_cast<long long>(gridDim.x) * blockDim.x)
        out[i] = __float2half_rn(x[i]);
}

// x = hi + lo with both bf16: hi in out[0, n), lo in out[n, 2n).
__global__ void toBf16Pair(const float* x, long long n, __nv_bfloat16* out) {
    for (long long i = static_cast<long long>(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
         i += static_cast<long long>(gridDim.x) * blockDim.x) {
        const __nv_bfloat16 hi = __float2bfloat16_rn(x[i]);
        out[i] = hi;
        out[n + i] = __float2bfloat16_rn(x[i] - __bfloat162float(hi));
    }
}

template <int NT>
void matvec(const DeviceMatrix& w, const float* x, float* y, bool acc, MatmulScratch& s,
            cudaStream_t stream) {
    const int blocks = (w.rows + kRowsPerBlock - 1) / kRowsPerBlock;
    const int threads = kRowsPerBlock * kWarp;
    const auto* xq = s.xq.as<signed char>();
    const auto* xd = s.xd.as<float>();
    switch (w.type) {
        case DType::Q8_0:
            matvecQ8_0<NT><<<blocks, threads, 0, stream>>>(
                w.codes.as<signed char>(), w.scales.as<__half>(), w.rows, w.cols, xq, xd, y, acc);
            break;
        case DType::Q4_0:
            matvecQ4_0<NT><<<blocks, threads, 0, stream>>>(w.codes.as<unsigned char>(),
                                                           w.scales.as<__half>(), w.rows, w.cols,
                                                           xq, xd, s.xs.as<int>(), y, acc);
            break;
        case DType::Q4_K:
            matvecQ4_K<NT><<<blocks, threads, 0, stream>>>(
                w.codes.as<unsigned char>(), w.scales.as<__half2>(), w.kScales.as<unsigned char>(),
                w.rows, w.cols, xq, xd, y, acc);
            break;
        case DType::F32:
            matvecPlain<float, NT>
                <<<blocks, threads, 0, stream>>>(w.codes.as<float>(), w.rows, w.cols, x, y, acc);
            break;
        case DType::F16:
            matvecPlain<__half, NT>
                <<<blocks, threads, 0, stream>>>(w.codes.as<__half>(), w.rows, w.cols, x, y, acc);
            break;
        case DType::BF16:
            matvecPlain<__nv_bfloat16, NT><<<blocks, threads, 0, stream>>>(
                w.codes.as<__nv_bfloat16>(), w.rows, w.cols, x, y, acc);
            break;
        default:
            throw Error("CUDA: no matrix-vector kernel for " + dtypeName(w.type));
    }
    checkLaunch("a matrix-vector product");
}

bool isBlockFormat(DType t) { return t == DType::Q8_0 || t == DType::Q4_0 || t == DType::Q4_K; }

void matvecRows(const DeviceMatrix& w, const float* x, int n, float* y, bool acc, MatmulScratch& s,
                cudaStream_t stream) {
    if (isBlockFormat(w.type)) {
        const long long blocks = static_cast<long long>(n) * w.cols / 32;
        s.xq.reserve(static_cast<std::size_t>(blocks) * 32);
        s.xd.reserve(static_cast<std::size_t>(blocks) * sizeof(float));
        s.xs.reserve(static_cast<std::size_t>(blocks) * sizeof(int));
        quantizeRows<<<gridFor(blocks * kWarp, 256), 256, 0, stream>>>(
            x, blocks, s.xq.as<signed char>(), s.xd.as<float>(), s.xs.as<int>());
        checkLaunch("quantizing activations");
    }
    // One instantiation per row count (its accumulators are registers).
    using Matvec =
        void (*)(const DeviceMatrix&, const float*, float*, bool, MatmulScratch&, cudaStream_t);
    static constexpr Matvec kByRows[] = {&matvec<1>, &matvec<2>, &matvec<3>, &matvec<4>,
                                         &matvec<5>, &matvec<6>, &matvec<7>, &matvec<8>};
    static_assert(std::size(kByRows) == kMatvecRows);
    kByRows[std::min(n, kMatvecRows) - 1](w, x, y, acc, s, stream);
}

// Y^T [out, n] (column-major, = Y [n, out] row-major) = W [out, in] row-major x X^T.
// y is float32 unless yType says otherwise; sums in float32 either way.
void gemm(cublasHandle_t blas, cudaDataType type, const void* w, const void* x, int out, int in,
          int n, void* y, float beta, cudaDataType yType = CUDA_R_32F) {
    const float alpha = 1.f;
    check(cublasGemmEx(blas, CUBLAS_OP_T, CUBLAS_OP_N, out, n, in, &alpha, w, type, in, x, type, in,
                       &beta, y, yType, out, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT),
          "a matrix product (cuBLAS)");
}

// A block-format matrix widened to f16 in the scratch (valid until the next widening).
const __half* widened(const DeviceMatrix& w, MatmulScratch& s, cudaStream_t stream) {
    const long long elements = static_cast<long long>(w.rows) * w.cols;
    s.widened.reserve(static_cast<std::size_t>(elements) * sizeof(__half));
    widenToHalf<<<gridFor(elements, 256), 256, 0, stream>>>(viewOf(w), elements,
                                                            s.widened.as<__half>());
    checkLaunch("widening a block-format matrix");
    return s.widened.as<__half>();
}

}  // namespace

void deviceLinear(const DeviceMatrix& w, const float* x, int n, float* y, bool accumulate,
                  MatmulScratch& s, cublasHandle_t blas, cudaStream_t stream) {
    if (n <= 0) return;
    if (n <= kMatvecRows && (w.cols % 32 == 0 || !isBlockFormat(w.type)))
        return matvecRows(w, x, n, y, accumulate, s, stream);
    const long long xElements = static_cast<long long>(n) * w.cols;
    const float beta = accumulate ? 1.f : 0.f;
    switch (w.type) {
        case DType::F32:
            gemm(blas, CUDA_R_32F, w.codes.as<void>(), x, w.rows, w.cols, n, y, beta);
            return;
        case DType::BF16: {
            s.xHalf.reserve(static_cast<std::size_t>(xElements) * 2 * sizeof(__nv_bfloat16));
            auto* pair = s.xHalf.as<__nv_bfloat16>();
            toBf16Pair<<<gridFor(xElements, 256), 256, 0, stream>>>(x, xElements, pair);
            checkLaunch("converting activations");
            gemm(blas, CUDA_R_16BF, w.codes.as<void>(), pair, w.rows, w.cols, n, y, beta);
            gemm(blas, CUDA_R_16BF, w.codes.as<void>(), pair + xElements, w.rows, w.cols, n, y,
                 1.f);
            return;
        }
        default:
            break;
    }
    // A block format is widened for this product only.
    const __half* weights = w.type == DType::F16 ? w.codes.as<__half>() : widened(w, s, stream);
    s.xHalf.reserve(static_cast<std::size_t>(xElements) * sizeof(__half));
    toHalf<<<gridFor(xElements, 256), 256, 0, stream>>>(x, xElements, s.xHalf.as<__half>());
    checkLaunch("converting activations");
    gemm(blas, CUDA_R_16F, weights, s.xHalf.as<void>(), w.rows, w.cols, n, y, beta);
}

bool batchesIn16Bits(DType type) { return type != DType::F32; }

void deviceLinear16(const DeviceMatrix& w, const void* x, int n, void* y, bool yFloat, float beta,
                    MatmulScratch& s, cublasHandle_t blas, cudaStream_t stream) {
    if (n <= 0) return;
    if (!batchesIn16Bits(w.type))
        throw Error("CUDA: no 16-bit product for " + dtypeName(w.type) + " weights");
    const bool bf16 = w.type == DType::BF16;
    const cudaDataType type = bf16 ? CUDA_R_16BF : CUDA_R_16F;
    const void* weights = bf16 || w.type == DType::F16
                              ? w.codes.as<void>()
                              : static_cast<const void*>(widened(w, s, stream));
    gemm(blas, type, weights, x, w.rows, w.cols, n, y, beta, yFloat ? CUDA_R_32F : type);
}

void deviceGatherRows(const DeviceMatrix& w, const int* ids, int n, float* out,
                      cudaStream_t stream) {
    gatherRows<<<n, 256, 0, stream>>>(viewOf(w), ids, n, out);
    checkLaunch("the embedding lookup");
}

}  // namespace cwb::cudallm
