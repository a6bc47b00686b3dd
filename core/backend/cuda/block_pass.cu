// The fused pass for llama.cpp's block formats Q8_0, Q4_0, Q4_1, Q5_0, Q5_1 and the K formats
// Q2_K ... Q6_K on a GPU (see cuda_jobs.h: runBlockPass). The 32-value formats: one warp per block
// of 32 consecutive weights, a lane per weight, so the block's scale comes from a warp reduction
// and the weight is read once. The K formats: a thread per sub-block, whose scale search runs its
// sums in the reference's order (k_blocks.cuh, k_blocks_16.cuh). Scales and codes follow the
// reference encoders (core/quant/legacy_blocks.cpp, k_blocks_32.cpp, k_blocks_16.cpp) operation by
// operation, with IEEE float32 division and no contraction (-fmad=false), so the blocks' bytes are
// quant::quantizeRow's; values are decoded from those bytes as dequantizeRow does. Histograms
// use the literal slot rule and lane-private shared counters of fused_kernel.cuh.
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <cfloat>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <type_traits>
#include <vector>

#include "core/backend/cuda/cuda_jobs.h"
#include "core/backend/cuda/cuda_util.cuh"
#include "core/backend/cuda/fused_launch.cuh"
#include "core/backend/cuda/k_blocks.cuh"
#include "core/backend/cuda/k_blocks_16.cuh"
#include "core/compress/block_pass.h"
#include "core/quant/block_layouts.h"

namespace cwb::cuda {
namespace {

constexpr int kBlockValues = 32;
constexpr int kBlocksInFlight = 4;  // blocks of 32 a warp loads before it uses the first

// (int)x for x in [-128, 128), else the nearer end (NaN: -128), as the reference's casts.
__device__ inline int truncToInt8Range(float x) {
    if (x >= -128.f && x < 128.f) return static_cast<int>(x);
    return x >= 128.f ? 127 : -128;
}

// Q8_0: d = amax / 127, codes round(x / d) saturated; the value is code * half(d). Lane 0 writes
// the scale, every lane its code byte.
__device__ inline float blockQ8_0(float x, int lane, unsigned char* out) {
    float amax = fabsf(x);  // fmaxf passes over NaN, as the reference's std::max does
    for (int o = 16; o > 0; o >>= 1) amax = fmaxf(amax, __shfl_xor_sync(0xffffffffu, amax, o));
    const float d = __fdiv_rn(amax, 127.f);
    const float id = d != 0.f ? __fdiv_rn(1.f, d) : 0.f;
    const int code = truncToInt8Range(roundf(__fmul_rn(x, id)));
    const unsigned short dh = halfBits(d);
    if (out) {
        if (lane == 0) {
            out[0] = static_cast<unsigned char>(dh & 0xff);
            out[1] = static_cast<unsigned char>(dh >> 8);
        }
        out[2 + lane] = static_cast<unsigned char>(code);
    }
    return __fmul_rn(static_cast<float>(static_cast<signed char>(code)),
                     __half2float(__ushort_as_half(dh)));
}

// The block's minimum (Max: maximum) as the reference's loop from FLT_MAX (-FLT_MAX) finds it:
// NaN never taken, and of +0 and -0 the first, the only tie whose bits differ.
template <bool Max>
__device__ inline float blockExtreme(float x) {
    float m = Max ? (x > -FLT_MAX ? x : -FLT_MAX) : (x < FLT_MAX ? x : FLT_MAX);
    for (int o = 16; o > 0; o >>= 1) {
        const float other = __shfl_xor_sync(0xffffffffu, m, o);
        m = Max ? fmaxf(m, other) : fminf(m, other);
    }
    if (m == 0.f) m = __shfl_sync(0xffffffffu, x, __ffs(__ballot_sync(0xffffffffu, x == 0.f)) - 1);
    return m;
}

// Lane 0 writes a half's bits at `at`.
__device__ inline void putHalf(unsigned char* out, int at, unsigned short bits, int lane) {
    if (lane == 0) {
        out[at] = static_cast<unsigned char>(bits & 0xff);
        out[at + 1] = static_cast<unsigned char>(bits >> 8);
    }
}

// The codes' low nibbles at `qs` (lanes j and j + 16 share byte j), as the reference packs
// them: Q4 formats or unmasked (a negative code's high bits spill into the high nibble), Q5
// formats masked. Returns this lane's nibble as the decoder reads it back.
template <bool Masked>
__device__ inline int packNibbles(int code, int lane, unsigned char* out, int qs) {
    const int high = __shfl_down_sync(0xffffffffu, code, 16);
    const int byte =
        lane < 16 ? (Masked ? (code & 0xf) | ((high & 0xf) << 4) : code | (high << 4)) & 0xff : 0;
    const int mine = __shfl_sync(0xffffffffu, byte, lane & 15);
    if (out && lane < 16) out[qs + lane] = static_cast<unsigned char>(byte);
    return lane < 16 ? (mine & 0xf) : (mine >> 4);
}

// The fifth bits of the Q5 codes (bit j of element j) at `qh`; returns this lane's code as the
// decoder rebuilds it.
__device__ inline int packFifthBits(int code, int nibble, int lane, unsigned char* out, int qh) {
    const unsigned bits = __ballot_sync(0xffffffffu, (code & 0x10) != 0);
    if (out && lane < 4) out[qh + lane] = static_cast<unsigned char>(bits >> (8 * lane));
    return nibble | (code & 0x10);
}

// Q4_0 (Half 8) and Q5_0 (Half 16): max = signedAbsMax, d = max / -Half, codes
// min(2 Half - 1, (int)(x / d + Half + 0.5)); the value is (code - Half) * half(d).
template <int Half>
__device__ inline float blockSymmetric(float x, int lane, unsigned char* out) {
    float amax;
    const float d = __fdiv_rn(signedAbsMax<32>(x, lane, amax), -static_cast<float>(Half));
    const float id = d != 0.f ? __fdiv_rn(1.f, d) : 0.f;
    const int code = min(2 * Half - 1, truncToInt8Range(__fadd_rn(__fmul_rn(x, id), Half + 0.5f)));
    const unsigned short dh = halfBits(d);
    if (out) putHalf(out, 0, dh, lane);
    int q = packNibbles<Half == 16>(code, lane, out, Half == 16 ? 6 : 2);
    if constexpr (Half == 16) q = packFifthBits(code, q, lane, out, 2);
    return __fmul_rn(static_cast<float>(q - Half), __half2float(__ushort_as_half(dh)));
}

// Q4_1 (Top 15) and Q5_1 (Top 31): d = (max - min) / Top, codes (x - min) / d + 0.5 truncated
// (Q4_1 capped at 15, Q5_1 cast to a byte); the value is code * half(d) + half(min).
template <int Top>
__device__ inline float blockWithMin(float x, int lane, unsigned char* out) {
    const float lo = blockExtreme<false>(x), hi = blockExtreme<true>(x);
    const float d = __fdiv_rn(__fsub_rn(hi, lo), static_cast<float>(Top));
    const float id = d != 0.f ? __fdiv_rn(1.f, d) : 0.f;
    const int q = truncToInt8Range(__fadd_rn(__fmul_rn(__fsub_rn(x, lo), id), 0.5f));
    const int code = Top == 15 ? min(15, q) : (q & 0xff);
    const unsigned short dh = halfBits(d), mh = halfBits(lo);
    if (out) {
        putHalf(out, 0, dh, lane);
        putHalf(out, 2, mh, lane);
    }
    int c = packNibbles<Top == 31>(code, lane, out, Top == 31 ? 8 : 4);
    if constexpr (Top == 31) c = packFifthBits(code, c, lane, out, 4);
    return __fadd_rn(__fmul_rn(static_cast<float>(c), __half2float(__ushort_as_half(dh))),
                     __half2float(__ushort_as_half(mh)));
}

// Bytes of a block of format F: core/quant's layout of it.
template <DType F>
__host__ __device__ constexpr int blockBytes() {
    if constexpr (F == DType::Q8_0)
        return sizeof(quant::BlockQ8_0);
    else if constexpr (F == DType::Q4_1)
        return sizeof(quant::BlockQ4_1);
    else if constexpr (F == DType::Q5_0)
        return sizeof(quant::BlockQ5_0);
    else if constexpr (F == DType::Q5_1)
        return sizeof(quant::BlockQ5_1);
    else
        return sizeof(quant::BlockQ4_0);
}

// One weight of the warp's block through format F's encoder: its decoded value.
template <DType F>
__device__ inline float encodeBlock(float x, int lane, unsigned char* out) {
    if constexpr (F == DType::Q8_0)
        return blockQ8_0(x, lane, out);
    else if constexpr (F == DType::Q4_0)
        return blockSymmetric<8>(x, lane, out);
    else if constexpr (F == DType::Q5_0)
        return blockSymmetric<16>(x, lane, out);
    else if constexpr (F == DType::Q4_1)
        return blockWithMin<15>(x, lane, out);
    else
        return blockWithMin<31>(x, lane, out);  // Q5_1
}

// The block's shared counters cleared (p.ways copies of the layout's slots).
__device__ inline void clearCounters(unsigned* counts, const Params& p) {
    if (p.ways > 0)
        for (int s = threadIdx.x; s < p.layout.total * p.ways; s += blockDim.x) counts[s] = 0;
    __syncthreads();
}

// A weight w and its value v counted in the original, compressed and error histograms.
__device__ inline void countValue(const Counter& counter, const Params& p, float w, float v) {
    counter.add(p.layout.original + slotOf(w, p.weights));
    counter.add(p.layout.compressed + slotOf(v, p.weights));
    counter.add(p.layout.error + slotOf(__fsub_rn(v, w), p.errors));
}

template <DType F, KeepRule::Kind K>
__global__ void __launch_bounds__(kThreads) blockKernel(Params p) {
    extern __shared__ unsigned sharedCounts[];
    constexpr int kBytes = blockBytes<F>();
    const int lane = static_cast<int>(threadIdx.x & 31);
    clearCounters(sharedCounts, p);
    const Counter counter{sharedCounts, &p, lane};
    Accumulator acc;
    const long long blockCount = p.n / kBlockValues;
    const long long warps = static_cast<long long>(gridDim.x) * (blockDim.x / 32);
    const long long firstWarp =
        static_cast<long long>(blockIdx.x) * (blockDim.x / 32) + threadIdx.x / 32;
    for (long long base = firstWarp; base < blockCount; base += warps * kBlocksInFlight) {
        float w[kBlocksInFlight], v[kBlocksInFlight];
        bool keepByte[kBlocksInFlight];
#pragma unroll
        for (int u = 0; u < kBlocksInFlight; ++u) {
            const long long b = base + u * warps;
            const long long i = b * kBlockValues + lane;
            w[u] = b < blockCount ? __ldcs(p.in + i) : 0.f;
            keepByte[u] = K == KeepRule::Kind::Explicit && b < blockCount && p.keep[i] != 0;
            v[u] = 0.f;
        }
        int count = 0;
#pragma unroll
        for (int u = 0; u < kBlocksInFlight; ++u) {
            const long long b = base + u * warps;
            if (b >= blockCount) break;  // the same for the whole warp
            ++count;
            bool keep = true;
            if constexpr (K == KeepRule::Kind::Threshold) keep = fabsf(w[u]) >= p.rho;
            if constexpr (K == KeepRule::Kind::Textbook) keep = w[u] >= p.rho;
            if constexpr (K == KeepRule::Kind::Explicit) keep = keepByte[u];
            const float x = keep ? w[u] : 0.f;
            unsigned char* out = p.blocks ? p.blocks + b * kBytes : nullptr;
            v[u] = encodeBlock<F>(x, lane, out);
            if (p.out) __stcs(p.out + b * kBlockValues + lane, v[u]);
            if (p.histograms) countValue(counter, p, w[u], v[u]);
        }
        float wc[4], vc[4];
#pragma unroll
        for (int u = 0; u < 4; ++u) {
            wc[u] = w[u];
            vc[u] = v[u];
        }
        accumulate<true, true>(acc, wc, vc, count);
    }
    asm volatile("" ::: "memory");
    finishBlock(acc, p, sharedCounts, p.ways);
}

// The K formats (Enc: k_blocks.cuh): lane j of each group of 256 / Enc::kSub lanes searches
// sub-block j of a super-block, the group shares the stored scales, then each lane codes,
// counts and writes its values.
template <typename Enc, KeepRule::Kind K>
__global__ void __launch_bounds__(kThreads, Enc::kMinBlocks) superBlockKernel(Params p) {
    extern __shared__ unsigned sharedCounts[];
    constexpr int kSub = Enc::kSub, kGroup = kSuperValues / kSub;
    const int lane = static_cast<int>(threadIdx.x & 31), j = lane % kGroup;
    clearCounters(sharedCounts, p);
    const Counter counter{sharedCounts, &p, lane};
    Accumulator acc;
    const long long supers = p.n / kSuperValues;
    const long long step = static_cast<long long>(gridDim.x) * (blockDim.x / kGroup);
    const long long warpFirst =
        (static_cast<long long>(blockIdx.x) * blockDim.x + threadIdx.x - lane) / kGroup;
    for (long long base = warpFirst; base < supers; base += step) {  // the same for the warp
        const long long sb = base + lane / kGroup;
        const bool active = sb < supers;
        const long long at = sb * kSuperValues + j * kSub;
        float x[kSub];
#pragma unroll
        for (int q = 0; q < kSub / 4; ++q) {
            const float4 f = active ? __ldg(reinterpret_cast<const float4*>(p.in + at) + q)
                                    : make_float4(0.f, 0.f, 0.f, 0.f);
            x[4 * q] = f.x;
            x[4 * q + 1] = f.y;
            x[4 * q + 2] = f.z;
            x[4 * q + 3] = f.w;
        }
        if constexpr (K != KeepRule::Kind::All) {
#pragma unroll
            for (int i = 0; i < kSub; ++i) {
                bool keep = true;
                if constexpr (K == KeepRule::Kind::Threshold) keep = fabsf(x[i]) >= p.rho;
                if constexpr (K == KeepRule::Kind::Textbook) keep = x[i] >= p.rho;
                if constexpr (K == KeepRule::Kind::Explicit) keep = active && p.keep[at + i] != 0;
                x[i] = keep ? x[i] : 0.f;
            }
        }
        unsigned char* out = p.blocks && active ? p.blocks + sb * Enc::kBytes : nullptr;
        Enc enc;
        enc.scales(x, j, lane, out);
        unsigned words[kSub / 4];
#pragma unroll
        for (int q = 0; q < kSub / 4; ++q) {
            float wq[4], vq[4];
            words[q] = 0;
#pragma unroll
            for (int b = 0; b < 4; ++b) {
                const int code = enc.code(4 * q + b, x[4 * q + b]);
                words[q] |= static_cast<unsigned>(code) << (8 * b);
                vq[b] = enc.value(code);
                // A pruned weight's original comes back from memory (x holds it as 0).
                wq[b] = K == KeepRule::Kind::All || !active ? x[4 * q + b] : p.in[at + 4 * q + b];
            }
            if (!active) continue;
            if (p.out)
                __stcs(reinterpret_cast<float4*>(p.out + at) + q,
                       make_float4(vq[0], vq[1], vq[2], vq[3]));
            if (p.histograms)
#pragma unroll
                for (int b = 0; b < 4; ++b) countValue(counter, p, wq[b], vq[b]);
            accumulate<true, true>(acc, wq, vq, 4);
        }
        enc.pack(words, j, out);
    }
    asm volatile("" ::: "memory");
    finishBlock(acc, p, sharedCounts, p.ways);
}

// The encoder of a K format (void for the 32-value formats).
template <DType F>
struct KEncoder {
    using type = void;
};
template <>
struct KEncoder<DType::Q2_K> {
    using type = EncoderQ2K;
};
template <>
struct KEncoder<DType::Q3_K> {
    using type = EncoderQ3K;
};
template <>
struct KEncoder<DType::Q4_K> {
    using type = EncoderQ4K;
};
template <>
struct KEncoder<DType::Q5_K> {
    using type = EncoderQ5K;
};
template <>
struct KEncoder<DType::Q6_K> {
    using type = EncoderQ6K;
};

template <DType F, KeepRule::Kind K>
constexpr KernelFn kernelOf() {
    using Enc = typename KEncoder<F>::type;
    if constexpr (std::is_void_v<Enc>)
        return &blockKernel<F, K>;
    else
        return &superBlockKernel<Enc, K>;
}

// Weights a thread takes: a sub-block of a K format, one of a 32-value format's.
template <DType F>
constexpr int valuesPerThread() {
    using Enc = typename KEncoder<F>::type;
    if constexpr (std::is_void_v<Enc>)
        return 1;
    else
        return Enc::kSub;
}

// A kernel and the weights each of its threads takes.
struct BlockKernel {
    KernelFn fn;
    int perThread;
};

template <DType F>
BlockKernel pickBlockKeep(KeepRule::Kind k) {
    constexpr int per = valuesPerThread<F>();
    switch (k) {
        case KeepRule::Kind::All:
            return {kernelOf<F, KeepRule::Kind::All>(), per};
        case KeepRule::Kind::Threshold:
            return {kernelOf<F, KeepRule::Kind::Threshold>(), per};
        case KeepRule::Kind::Textbook:
            return {kernelOf<F, KeepRule::Kind::Textbook>(), per};
        case KeepRule::Kind::Explicit:
            return {kernelOf<F, KeepRule::Kind::Explicit>(), per};
    }
    return {nullptr, 1};
}

const char* const kNoKernel =
    " blocks; use Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q2_K, Q3_K, Q4_K, Q5_K or Q6_K, or the CPU";

// The kernel for a format and keep rule; fn null for a format without one.
BlockKernel pickBlockKernel(DType format, KeepRule::Kind k) {
    switch (format) {
#define CWB_BLOCK_KERNEL(F) \
    case DType::F:          \
        return pickBlockKeep<DType::F>(k);
        CWB_BLOCK_KERNEL(Q8_0)
        CWB_BLOCK_KERNEL(Q4_0)
        CWB_BLOCK_KERNEL(Q4_1)
        CWB_BLOCK_KERNEL(Q5_0)
        CWB_BLOCK_KERNEL(Q5_1)
        CWB_BLOCK_KERNEL(Q2_K)
        CWB_BLOCK_KERNEL(Q3_K)
        CWB_BLOCK_KERNEL(Q4_K)
        CWB_BLOCK_KERNEL(Q5_K)
        CWB_BLOCK_KERNEL(Q6_K)
#undef CWB_BLOCK_KERNEL
        default:
            return {nullptr, 1};
    }
}

// Runs the pass over p.n device-resident weights (p.in, p.out, p.keep, p.blocks set by the
// caller) and assembles the result; `start`/`stop`, where given, around the kernel alone.
FusedResult runBlocks(DType format, const FusedJob& job, const FusedOptions& options, Params p,
                      int device, DeviceBuffer<unsigned long long>& countsBuffer,
                      DeviceBuffer<Partial>& partialsBuffer, cudaEvent_t start = nullptr,
                      cudaEvent_t stop = nullptr) {
    const bool hist = options.histograms;
    p.histograms = hist;
    p.weights = hist ? binsOf(options.weights) : Bins{0.f, 0.f, 0.f, 0};
    p.errors = hist ? binsOf(options.error) : Bins{0.f, 0.f, 0.f, 0};
    p.rho = job.keep.rho;
    const Layout l = layoutOf(hist, p.weights.bins, p.errors.bins, true, 0, false);
    p.layout = l;
    const DeviceLimits limits = limitsOf(device);
    p.ways = waysThatFit(l.total, limits.budget, 32);  // none fit: global atomics
    const BlockKernel kernel = pickBlockKernel(format, job.keep.kind);
    const long long perBlock = static_cast<long long>(kThreads) * kernel.perThread;
    const LaunchResult launched = launchPass(kernel.fn, p, (p.n + perBlock - 1) / perBlock, limits,
                                             countsBuffer, partialsBuffer, start, stop);
    FusedResult r = sumsOf(launched.partials);
    if (!hist) return r;
    r.original = histogramAt(options.weights, launched.counts, l.original, false);
    r.compressed = histogramAt(options.weights, launched.counts, l.compressed, false);
    r.error = histogramAt(options.error, launched.counts, l.error, false);
    return r;
}

// core's rules, and a kernel for the format here.
void checkGpuBlockJob(DType format, const FusedJob& job, const FusedOptions& options) {
    checkBlockJob(format, job, options);
    if (!hasBlockKernel(format))
        throw Error("CUDA: the fused pass has no kernel for " + dtypeName(format) + kNoKernel);
}

}  // namespace

bool hasBlockKernel(DType format) {
    return pickBlockKernel(format, KeepRule::Kind::All).fn != nullptr;
}

FusedResult runBlockPass(int device, DType format, const FusedJob& job, const FusedOptions& options,
                         std::byte* blocks) {
    checkGpuBlockJob(format, job, options);
    useDevice(device);
    const long long n = job.in.size();
    DeviceBuffer<float> in, out;
    DeviceBuffer<std::uint8_t> keep;
    DeviceBuffer<unsigned char> packed;
    DeviceBuffer<unsigned long long> counts;
    DeviceBuffer<Partial> partials;
    Params p{};
    p.n = n;
    p.cols = std::max<long long>(job.in.cols, 1);
    in.upload(job.in.data, static_cast<std::size_t>(n));
    p.in = in.data();
    if (job.out) {
        out.resize(static_cast<std::size_t>(std::max<long long>(n, 1)));
        p.out = out.data();
    }
    if (job.keep.kind == KeepRule::Kind::Explicit) {
        keep.upload(job.keep.keep, static_cast<std::size_t>(n));
        p.keep = keep.data();
    }
    const std::size_t bytes = dtypeStorageBytes(format, static_cast<std::uint64_t>(n));
    if (blocks) {
        packed.resize(std::max<std::size_t>(bytes, 1));
        p.blocks = packed.data();
    }
    FusedResult r = runBlocks(format, job, options, p, device, counts, partials);
    if (job.out) out.download(job.out, static_cast<std::size_t>(n));
    if (blocks) packed.download(reinterpret_cast<unsigned char*>(blocks), bytes);
    return r;
}

FusedResult blockErrorOnDevice(int device, DType format, const float* in, long long n,
                               long long cols) {
    FusedJob job;
    job.in = MatrixView{nullptr, n / std::max<long long>(cols, 1), cols};
    FusedOptions options;
    options.histograms = false;
    checkGpuBlockJob(format, job, options);
    useDevice(device);
    // The counters and sums of one device, reused: the table calls this per matrix and format,
    // and cudaFree would synchronise the device each time. Held for the process's life.
    struct Buffers {
        std::mutex mutex;
        DeviceBuffer<unsigned long long> counts;
        DeviceBuffer<Partial> partials;
    };
    static std::mutex mapMutex;
    static std::map<int, Buffers*> all;
    Buffers* b = nullptr;
    {
        const std::lock_guard<std::mutex> lock(mapMutex);
        Buffers*& slot = all[device];
        if (!slot) slot = new Buffers;
        b = slot;
    }
    const std::lock_guard<std::mutex> lock(b->mutex);
    Params p{};
    p.n = n;
    p.cols = std::max<long long>(cols, 1);
    p.in = in;
    return runBlocks(format, job, options, p, device, b->counts, b->partials);
}

FusedTiming timeBlockPass(int device, long long n, DType format, const FusedJob& settings,
                          bool writeBlocks, const FusedOptions& options, int repeats) {
    FusedJob job = settings;
    job.in = MatrixView{nullptr, 1, n};
    checkGpuBlockJob(format, job, options);
    if (job.keep.kind == KeepRule::Kind::Explicit)
        throw Error("timeBlockPass: explicit masks are not timed");
    useDevice(device);
    DeviceBuffer<float> in;
    DeviceBuffer<unsigned char> packed;
    DeviceBuffer<unsigned long long> counts;
    DeviceBuffer<Partial> partials;
    in.resize(static_cast<std::size_t>(n));
    fillNormalWeights(in.data(), n);
    Params p{};
    p.n = n;
    p.cols = n;
    p.in = in.data();
    if (writeBlocks) {
        packed.resize(dtypeStorageBytes(format, static_cast<std::uint64_t>(n)));
        p.blocks = packed.data();
    }
    return timeRepeats(repeats, [&](cudaEvent_t start, cudaEvent_t stop) {
        return runBlocks(format, job, options, p, device, counts, partials, start, stop);
    });
}

}  // namespace cwb::cuda
