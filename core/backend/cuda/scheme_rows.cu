// The whole-model table's row pass on a GPU (cuda_jobs.h: measureSchemeRows). The matrix's
// stored rows (F32, F16 or BF16) cross once: the host copies a chunk from the mapped file into
// one of two pinned buffers while the GPU copies and decodes the other, so the file's reading,
// the upload and the decoding overlap. Then each block format runs as the block pass (the
// same kernels as runBlockPass: quant::quantizeRow's codes) with statistics only, and each
// alpha/rho rule as one more reduction over the decoded values. Partial sums per thread block
// over fixed grids, added on the host in order: the same figures every run.
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <vector>

#include "core/backend/cuda/cuda_jobs.h"
#include "core/backend/cuda/cuda_util.cuh"
#include "core/llm/scheme_rows.h"
#include "core/util/parallel.h"

namespace cwb::cuda {
namespace {

constexpr int kReduceThreads = 256;
constexpr int kReduceBlocks = 1024;              // at most, per launch
constexpr std::size_t kStagingBytes = 64 << 20;  // per pinned buffer

struct ValuePartial {
    double squares;
    float min, max;
};
struct RulePartial {
    double error;
    unsigned long long zeros;
};

enum class Stored { F32, F16, BF16 };

template <Stored S>
__device__ inline float decodeValue(const unsigned char* raw, long long i) {
    if constexpr (S == Stored::F32) {
        return reinterpret_cast<const float*>(raw)[i];
    } else {
        const unsigned short h = reinterpret_cast<const unsigned short*>(raw)[i];
        if constexpr (S == Stored::F16)
            return __half2float(__ushort_as_half(h));
        else
            return __uint_as_float(static_cast<unsigned>(h) << 16);
    }
}

// Sums of a block's threads in a fixed order (a tree over shared memory).
template <typename T, typename Op>
__device__ inline T blockReduce(T v, T* shared, Op op) {
    shared[threadIdx.x] = v;
    __syncthreads();
    for (int s = kReduceThreads / 2; s > 0; s >>= 1) {
        if (static_cast<int>(threadIdx.x) < s)
            shared[threadIdx.x] = op(shared[threadIdx.x], shared[threadIdx.x + s]);
        __syncthreads();
    }
    const T r = shared[0];
    __syncthreads();
    return r;
}

// n stored values of `raw` decoded to `out`; each block's sum of squares and extremes.
template <Stored S>
__global__ void __launch_bounds__(kReduceThreads)
    decodeKernel(const unsigned char* raw, long long n, float* out, ValuePartial* partials) {
    __shared__ double sums[kReduceThreads];
    __shared__ float extremes[kReduceThreads];
    double squares = 0.0;
    float lo = INFINITY, hi = -INFINITY;
    const long long stride = static_cast<long long>(gridDim.x) * blockDim.x;
    for (long long i = static_cast<long long>(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
         i += stride) {
        const float w = decodeValue<S>(raw, i);
        out[i] = w;
        squares += static_cast<double>(w) * w;
        lo = fminf(lo, w);
        hi = fmaxf(hi, w);
    }
    const double s = blockReduce(squares, sums, [](double a, double b) { return a + b; });
    const float mn = blockReduce(lo, extremes, [](float a, float b) { return fminf(a, b); });
    const float mx = blockReduce(hi, extremes, [](float a, float b) { return fmaxf(a, b); });
    if (threadIdx.x == 0) partials[blockIdx.x] = {s, mn, mx};
}

// The alpha/rho rule of quant::addStepError: W' = keep ? roundf(W / alpha) * alpha : 0 in
// float32 (no contraction), the difference and its square in double; each block's sums.
__global__ void __launch_bounds__(kReduceThreads)
    stepRuleKernel(const float* in, long long n, float alpha, float rho, bool textbook,
                   RulePartial* partials) {
    __shared__ double sums[kReduceThreads];
    __shared__ unsigned long long counts[kReduceThreads];
    double error = 0.0;
    unsigned long long zeros = 0;
    const long long stride = static_cast<long long>(gridDim.x) * blockDim.x;
    for (long long i = static_cast<long long>(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
         i += stride) {
        const float w = in[i];
        const bool keep = textbook ? w >= rho : fabsf(w) >= rho;
        const float v = !keep          ? 0.f
                        : alpha == 0.f ? w
                                       : __fmul_rn(roundf(__fdiv_rn(w, alpha)), alpha);
        const double d = static_cast<double>(v) - static_cast<double>(w);
        error = __dadd_rn(error, __dmul_rn(d, d));
        zeros += v == 0.f;
    }
    const double e = blockReduce(error, sums, [](double a, double b) { return a + b; });
    const unsigned long long z = blockReduce(
        zeros, counts, [](unsigned long long a, unsigned long long b) { return a + b; });
    if (threadIdx.x == 0) partials[blockIdx.x] = {e, z};
}

// What one GPU keeps between calls: the pinned buffers, the device copies and decoded values
// (grown to the largest matrix yet). One call at a time uses them.
struct Staging {
    std::mutex mutex;
    unsigned char* pinned[2] = {nullptr, nullptr};
    cudaEvent_t copied[2] = {nullptr, nullptr};  // the upload from pinned[b] is done
    DeviceBuffer<unsigned char> raw[2];
    DeviceBuffer<float> values;
    DeviceBuffer<ValuePartial> valuePartials;
    DeviceBuffer<RulePartial> rulePartials;
};

// Held for the process's life (freed with it: a static destructor could run after the
// runtime has shut down).
Staging& stagingFor(int device) {
    static std::mutex mutex;
    static std::map<int, Staging*> all;
    const std::lock_guard<std::mutex> lock(mutex);
    Staging*& s = all[device];
    if (!s) {
        auto fresh = std::make_unique<Staging>();
        for (int b = 0; b < 2; ++b) {
            check(cudaMallocHost(&fresh->pinned[b], kStagingBytes), "cudaMallocHost");
            check(cudaEventCreateWithFlags(&fresh->copied[b], cudaEventDisableTiming),
                  "cudaEventCreate");
            fresh->raw[b].resize(kStagingBytes);
        }
        s = fresh.release();
    }
    return *s;
}

bool storedKind(DType type, Stored& kind) {
    switch (type) {
        case DType::F32:
            kind = Stored::F32;
            return true;
        case DType::F16:
            kind = Stored::F16;
            return true;
        case DType::BF16:
            kind = Stored::BF16;
            return true;
        default:
            return false;
    }
}

void launchDecode(Stored kind, const unsigned char* raw, long long n, float* out,
                  ValuePartial* partials, int blocks, cudaStream_t stream) {
    if (kind == Stored::F32)
        decodeKernel<Stored::F32><<<blocks, kReduceThreads, 0, stream>>>(raw, n, out, partials);
    else if (kind == Stored::F16)
        decodeKernel<Stored::F16><<<blocks, kReduceThreads, 0, stream>>>(raw, n, out, partials);
    else
        decodeKernel<Stored::BF16><<<blocks, kReduceThreads, 0, stream>>>(raw, n, out, partials);
    checkLaunch("decode kernel");
}

}  // namespace

bool takesSchemeRows(const SchemeRowsJob& job) {
    Stored kind{};
    if (!job.tensor || job.tensor->shape().size() != 2 || !storedKind(job.tensor->dtype(), kind))
        return false;
    return std::all_of(job.formats.begin(), job.formats.end(),
                       [](DType f) { return hasBlockKernel(f); });
}

namespace {

// The pass with `st` held: the stored rows up in chunks, then the formats and rules.
SchemeRowSums measureHeld(Staging& st, int device, const SchemeRowsJob& job, int threads,
                          const Progress& progress) {
    const Tensor& tensor = *job.tensor;
    const long long rows = tensor.shape()[0], cols = tensor.shape()[1];
    const long long n = rows * cols;
    Stored kind{};
    storedKind(tensor.dtype(), kind);
    const std::size_t rowBytes =
        dtypeStorageBytes(tensor.dtype(), static_cast<std::uint64_t>(cols));
    const long long chunkRows = std::max<long long>(
        1, static_cast<long long>(kStagingBytes / std::max<std::size_t>(rowBytes, 1)));
    if (static_cast<std::size_t>(chunkRows) * rowBytes > kStagingBytes)
        throw Error("CUDA: a row of " + std::to_string(cols) +
                    " values exceeds the staging buffer");
    const long long chunks = (rows + chunkRows - 1) / chunkRows;
    const long long steps = chunks + static_cast<long long>(job.formats.size() + job.rules.size());
    threads = std::max(1, resolveThreads(threads));

    const cudaStream_t stream = cudaStreamPerThread;
    st.values.resize(static_cast<std::size_t>(std::max<long long>(n, 1)));
    const int decodeBlocks = kReduceBlocks;
    st.valuePartials.resize(static_cast<std::size_t>(chunks) * decodeBlocks);
    const unsigned char* source = reinterpret_cast<const unsigned char*>(tensor.bytes());
    for (long long c = 0; c < chunks; ++c) {
        const int b = static_cast<int>(c % 2);
        const long long first = c * chunkRows, count = std::min(chunkRows, rows - first);
        const std::size_t bytes = static_cast<std::size_t>(count) * rowBytes;
        // The buffer's last upload done, the host fills it (several threads: the mapped
        // file's pages are read here) while the GPU takes the other one.
        check(cudaEventSynchronize(st.copied[b]), "cudaEventSynchronize");
        const unsigned char* from = source + static_cast<std::size_t>(first) * rowBytes;
        unsigned char* to = st.pinned[b];
        const long long pieces = static_cast<long long>((bytes + (1 << 20) - 1) >> 20);
        parallelFor(pieces, static_cast<int>(std::min<long long>(threads, pieces)),
                    [&](long long begin, long long end, int) {
                        const std::size_t lo = static_cast<std::size_t>(begin) << 20;
                        const std::size_t hi = std::min(bytes, static_cast<std::size_t>(end) << 20);
                        if (hi > lo) std::memcpy(to + lo, from + lo, hi - lo);
                    });
        check(cudaMemcpyAsync(st.raw[b].data(), to, bytes, cudaMemcpyHostToDevice, stream),
              "upload rows");
        check(cudaEventRecord(st.copied[b], stream), "cudaEventRecord");
        const long long values = count * cols;
        launchDecode(kind, st.raw[b].data(), values, st.values.data() + first * cols,
                     st.valuePartials.data() + c * decodeBlocks,
                     gridFor(values, kReduceThreads, decodeBlocks), stream);
        progress.step(c + 1, steps);
    }
    // Blocks a chunk's decode did not launch keep no stale sums: only the launched ones count.
    std::vector<ValuePartial> valueParts(static_cast<std::size_t>(chunks) * decodeBlocks);
    check(cudaMemcpyAsync(valueParts.data(), st.valuePartials.data(),
                          valueParts.size() * sizeof(ValuePartial), cudaMemcpyDeviceToHost, stream),
          "download sums");
    check(cudaStreamSynchronize(stream), "decode rows");
    SchemeRowSums sums;
    for (long long c = 0; c < chunks; ++c) {
        const long long count = std::min(chunkRows, rows - c * chunkRows);
        const int launched = gridFor(count * cols, kReduceThreads, decodeBlocks);
        for (int k = 0; k < launched; ++k) {
            const ValuePartial& p = valueParts[static_cast<std::size_t>(c * decodeBlocks + k)];
            sums.signal += p.squares;
            sums.min = std::min(sums.min, p.min);
            sums.max = std::max(sums.max, p.max);
        }
    }
    if (!job.extremes) sums.min = sums.max = 0.f;  // as the CPU's pass leaves them
    long long done = chunks;
    for (const DType format : job.formats) {
        sums.formatError.push_back(
            blockErrorOnDevice(device, format, st.values.data(), n, cols).sumSquaredError);
        progress.step(++done, steps);
    }
    const int ruleBlocks = gridFor(n, kReduceThreads, kReduceBlocks);
    st.rulePartials.resize(static_cast<std::size_t>(ruleBlocks));
    std::vector<RulePartial> ruleParts(static_cast<std::size_t>(ruleBlocks));
    for (const quant::StepRule& rule : job.rules) {
        stepRuleKernel<<<ruleBlocks, kReduceThreads, 0, stream>>>(
            st.values.data(), n, rule.alpha, rule.rho, rule.textbook, st.rulePartials.data());
        checkLaunch("step rule kernel");
        check(
            cudaMemcpyAsync(ruleParts.data(), st.rulePartials.data(),
                            ruleParts.size() * sizeof(RulePartial), cudaMemcpyDeviceToHost, stream),
            "download sums");
        check(cudaStreamSynchronize(stream), "step rule");
        quant::StepErrorSums e;
        for (const RulePartial& p : ruleParts) {
            e.error += p.error;
            e.zeros += static_cast<long long>(p.zeros);
        }
        sums.ruleSums.push_back(e);
        progress.step(++done, steps);
    }
    return sums;
}

}  // namespace

SchemeRowSums measureSchemeRows(int device, const SchemeRowsJob& job, int threads,
                                const Progress& progress) {
    if (!takesSchemeRows(job)) throw Error("CUDA: the table's row pass takes F32/F16/BF16 rows");
    useDevice(device);
    Staging& st = stagingFor(device);
    const std::lock_guard<std::mutex> lock(st.mutex);
    try {
        return measureHeld(st, device, job, threads, progress);
    } catch (...) {
        // Cancelled or failed with copies and kernels in flight: they end before the buffers
        // pass to the next call (which may come from another thread, on another stream).
        cudaStreamSynchronize(cudaStreamPerThread);
        throw;
    }
}

}  // namespace cwb::cuda
