// The float32 inference engine on a GPU: the compiled Plan of core/infer/plan.h with its
// arrays uploaded once. Dense and Conv2D are cuBLAS SGEMMs, in plain float32 by default
// (results within float32 rounding of the CPU's) or on the TF32 tensor cores (GpuMath::Tf32); a
// convolution unrolls its patches (im2col) for a slice of the batch at a time, except one of
// few taps (a first layer) followed by pooling, which the pooling computes at its taps straight
// from the images, in float32. Bias, activations, pooling and channel affines are small kernels
// of this file, written with the CPU kernels' formulas.
#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include "core/backend/cuda/cuda_jobs.h"
#include "core/backend/cuda/cuda_util.cuh"
#include "core/infer/plan.h"

namespace cwb::cuda {
namespace {

constexpr long long kPatchFloats = 1ll << 28;  // 1 GiB of unrolled patches per slice at most
constexpr int kThreads = 256;
constexpr int kMaxBlocks = 1 << 20;  // of the element kernels, which loop over the grid
constexpr int kDirectTaps = 32;      // a pooled convolution of at most this many taps skips GEMM

// ---- element kernels -----------------------------------------------------------------

// SELU constants from Klambauer et al. 2017, as Keras spells them (activations.cpp).
constexpr float kSeluAlpha = 1.6732632423543772848170429916717f;
constexpr float kSeluScale = 1.0507009873554804934193349852946f;

__device__ inline float sigmoidOf(float x) { return 1.f / (1.f + expf(-x)); }

__device__ inline float activate(ActivationKind kind, float a, float x) {
    switch (kind) {
        case ActivationKind::Linear:
        case ActivationKind::Softmax:  // rows: softmaxRows
            return x;
        case ActivationKind::Relu:
            return x > 0.f ? x : 0.f;
        case ActivationKind::Relu6:
            return fminf(fmaxf(x, 0.f), 6.f);
        case ActivationKind::LeakyRelu:
            return x > 0.f ? x : a * x;
        case ActivationKind::Sigmoid:
            return sigmoidOf(x);
        case ActivationKind::Tanh:
            return tanhf(x);
        case ActivationKind::Elu:
            return x > 0.f ? x : a * expm1f(x);
        case ActivationKind::Selu:
            return kSeluScale * (x > 0.f ? x : kSeluAlpha * expm1f(x));
        case ActivationKind::Softplus:
            return fmaxf(x, 0.f) + log1pf(expf(-fabsf(x)));
        case ActivationKind::Softsign:
            return x / (fabsf(x) + 1.f);
        case ActivationKind::Swish:
            return x * sigmoidOf(x);
        case ActivationKind::Gelu:
            return 0.5f * x * (1.f + erff(x * 0.70710678118654752f));
        case ActivationKind::HardSigmoid:
            return fminf(fmaxf(a * x + 0.5f, 0.f), 1.f);
        case ActivationKind::Exponential:
            return expf(x);
    }
    return x;
}

// The element kernels index in 32 bits (64-bit division costs tens of instructions); the
// host cuts larger work into launches of fewer than 2^31 elements (forSlices).

// data (rows x cols) += bias[col], then the activation (not softmax).
__global__ void biasActivate(float* data, unsigned count, unsigned cols, const float* bias,
                             ActivationKind kind, float a) {
    const unsigned stride = gridDim.x * blockDim.x;
    for (unsigned i = blockIdx.x * blockDim.x + threadIdx.x; i < count; i += stride) {
        float x = data[i];
        if (bias) x += bias[i % cols];
        data[i] = activate(kind, a, x);
    }
}

// out = in * scale[c] + shift[c] over the last axis, then the activation (not softmax).
__global__ void channelAffine(const float* in, float* out, unsigned count, unsigned channels,
                              const float* scale, const float* shift, ActivationKind kind,
                              float a) {
    const unsigned stride = gridDim.x * blockDim.x;
    for (unsigned i = blockIdx.x * blockDim.x + threadIdx.x; i < count; i += stride) {
        const unsigned c = i % channels;
        out[i] = activate(kind, a, in[i] * scale[c] + (shift ? shift[c] : 0.f));
    }
}

// Softmax over consecutive rows of n values, one thread a row, the row's maximum taken off.
__global__ void softmaxRows(float* data, long long rows, int n) {
    const long long r = static_cast<long long>(blockIdx.x) * blockDim.x + threadIdx.x;
    if (r >= rows) return;
    float* row = data + r * n;
    float maxValue = row[0];
    for (int i = 1; i < n; ++i) maxValue = fmaxf(maxValue, row[i]);
    float sum = 0.f;
    for (int i = 0; i < n; ++i) {
        row[i] = expf(row[i] - maxValue);
        sum += row[i];
    }
    const float inv = 1.f / sum;
    for (int i = 0; i < n; ++i) row[i] *= inv;
}

// Patches of `images` channels_last images: row (image, oy, ox), column (ky, kx, c), the
// Keras kernel's row order; taps in the padding are 0.
__global__ void im2col(const float* in, float* patches, Window2D w, unsigned total) {
    const unsigned k = w.kernelH * w.kernelW * w.channels;
    const unsigned stride = gridDim.x * blockDim.x;
    for (unsigned i = blockIdx.x * blockDim.x + threadIdx.x; i < total; i += stride) {
        const unsigned row = i / k, col = i - row * k;
        const unsigned tap = col / w.channels, c = col - tap * w.channels;
        const int ky = static_cast<int>(tap / w.kernelW), kx = static_cast<int>(tap % w.kernelW);
        const unsigned pixel = row / w.outW, image = pixel / w.outH;
        const int ox = static_cast<int>(row - pixel * w.outW);
        const int oy = static_cast<int>(pixel - image * w.outH);
        const int y = oy * w.strideH + ky - w.padTop, x = ox * w.strideW + kx - w.padLeft;
        patches[i] = y < 0 || y >= w.inH || x < 0 || x >= w.inW
                         ? 0.f
                         : in[((image * w.inH + y) * w.inW + x) * w.channels + c];
    }
}

// Max or average pooling; only taps inside the image take part (as the CPU's pooling.cpp),
// combined row by row from the first one. With `bias` or an activation given, each tap first
// gets the preceding convolution's epilogue (bias[c], then the activation): the same values
// as running that epilogue as its own pass, without writing and re-reading the full map.
struct TapEpilogue {
    const float* bias = nullptr;
    ActivationKind kind = ActivationKind::Linear;
    float alpha = 0.f;
};

// W neighbouring channels, loaded and stored as one access (W = 4: a 16-byte load).
template <int W>
struct alignas(4 * W) Lanes {
    float v[W];
};

// Where pooling reads its taps: a map in memory (W channels at a time)...
template <int W>
struct MapSource {
    const float* in;
    __device__ Lanes<W> at(const Window2D& w, unsigned image, int y, int x, unsigned c) const {
        const std::size_t pixel = (static_cast<std::size_t>(image) * w.inH + y) * w.inW + x;
        return *reinterpret_cast<const Lanes<W>*>(in + pixel * w.channels + c);
    }
};

// ... or a convolution of few taps (kernelH * kernelW * channels <= kDirectTaps: an image
// network's first layer) computed from the images at the tap, four output channels at a time,
// in the patch's (ky, kx, c) order. Its patches would be a K of 9 or so, a GEMM too thin for
// the cost of writing them and its output map out and reading them back.
struct FewTapSource {
    const float* in;
    const float4* weights;  // (taps, outFeatures) row-major
    Window2D conv;
    unsigned groups;  // outFeatures / 4
    __device__ Lanes<4> at(const Window2D&, unsigned image, int oy, int ox, unsigned c) const {
        const Window2D& w = conv;
        const int y0 = oy * w.strideH - w.padTop, x0 = ox * w.strideW - w.padLeft;
        const float* base = in + static_cast<std::size_t>(image) * w.inH * w.inW * w.channels;
        float4 acc = make_float4(0.f, 0.f, 0.f, 0.f);
        for (int ky = 0; ky < w.kernelH; ++ky) {
            const int y = y0 + ky;
            if (y < 0 || y >= w.inH) continue;  // padding taps add 0
            for (int kx = 0; kx < w.kernelW; ++kx) {
                const int x = x0 + kx;
                if (x < 0 || x >= w.inW) continue;
                const float* tapIn = base + (y * w.inW + x) * w.channels;
                const float4* tapW = weights + (ky * w.kernelW + kx) * w.channels * groups + c / 4;
                for (int ch = 0; ch < w.channels; ++ch) {
                    const float v = tapIn[ch];
                    const float4 k = tapW[ch * groups];
                    acc.x = fmaf(v, k.x, acc.x);
                    acc.y = fmaf(v, k.y, acc.y);
                    acc.z = fmaf(v, k.z, acc.z);
                    acc.w = fmaf(v, k.w, acc.w);
                }
            }
        }
        return {{acc.x, acc.y, acc.z, acc.w}};
    }
};

// One thread pools W neighbouring channels (W = 4 where channels are a multiple of 4: fewer,
// wider loads; the same arithmetic lane by lane). `total` counts groups of W outputs; `w` is
// the pooling's window over the map that `src` gives.
template <bool Max, int W, class Source>
__global__ void pool(Source src, float* out, Window2D w, unsigned total, TapEpilogue e) {
    using L = Lanes<W>;
    const unsigned groups = w.channels / W;
    const unsigned stride = gridDim.x * blockDim.x;
    for (unsigned i = blockIdx.x * blockDim.x + threadIdx.x; i < total; i += stride) {
        const unsigned pixel = i / groups, c = (i - pixel * groups) * W;
        const unsigned rowIndex = pixel / w.outW, image = rowIndex / w.outH;
        const int ox = static_cast<int>(pixel - rowIndex * w.outW);
        const int oy = static_cast<int>(rowIndex - image * w.outH);
        const int y0 = oy * w.strideH - w.padTop, x0 = ox * w.strideW - w.padLeft;
        const int ky0 = max(0, -y0), ky1 = min(w.kernelH, w.inH - y0);
        const int kx0 = max(0, -x0), kx1 = min(w.kernelW, w.inW - x0);
        L b{};
        if (e.bias) b = *reinterpret_cast<const L*>(e.bias + c);
        const auto tap = [&](int y, int x) {
            L t = src.at(w, image, y, x, c);
#pragma unroll
            for (int j = 0; j < W; ++j)
                t.v[j] = activate(e.kind, e.alpha, e.bias ? t.v[j] + b.v[j] : t.v[j]);
            return t;
        };
        L acc = tap(y0 + ky0, x0 + kx0);
        for (int ky = ky0; ky < ky1; ++ky)
            for (int kx = ky == ky0 ? kx0 + 1 : kx0; kx < kx1; ++kx) {
                const L t = tap(y0 + ky, x0 + kx);
#pragma unroll
                for (int j = 0; j < W; ++j) {
                    if constexpr (Max)
                        acc.v[j] = acc.v[j] > t.v[j] ? acc.v[j] : t.v[j];
                    else
                        acc.v[j] += t.v[j];
                }
            }
        if constexpr (!Max) {
            const float inv = 1.f / static_cast<float>((ky1 - ky0) * (kx1 - kx0));
#pragma unroll
            for (int j = 0; j < W; ++j) acc.v[j] *= inv;
        }
        *reinterpret_cast<L*>(out + static_cast<std::size_t>(i) * W) = acc;
    }
}

// im2col for channels a multiple of 4: one float4 a thread, the index arithmetic once per
// four values.
__global__ void im2col4(const float4* in, float4* patches, Window2D w, unsigned total) {
    const unsigned c4 = w.channels / 4, taps = w.kernelH * w.kernelW, k4 = taps * c4;
    const unsigned stride = gridDim.x * blockDim.x;
    for (unsigned i = blockIdx.x * blockDim.x + threadIdx.x; i < total; i += stride) {
        const unsigned row = i / k4, col = i - row * k4;
        const unsigned tap = col / c4, c = col - tap * c4;
        const int ky = static_cast<int>(tap / w.kernelW), kx = static_cast<int>(tap % w.kernelW);
        const unsigned pixel = row / w.outW, image = pixel / w.outH;
        const int ox = static_cast<int>(row - pixel * w.outW);
        const int oy = static_cast<int>(pixel - image * w.outH);
        const int y = oy * w.strideH + ky - w.padTop, x = ox * w.strideW + kx - w.padLeft;
        patches[i] = y < 0 || y >= w.inH || x < 0 || x >= w.inW
                         ? make_float4(0.f, 0.f, 0.f, 0.f)
                         : in[((image * w.inH + y) * w.inW + x) * c4 + c];
    }
}

// Calls fn(first, count) over [0, items) in runs of fewer than 2^31 / perItem items.
template <class F>
void forSlices(long long items, long long perItem, F fn) {
    const long long most =
        std::max<long long>(1, ((1ll << 31) - 1) / std::max<long long>(perItem, 1));
    for (long long first = 0; first < items; first += most)
        fn(first, std::min(most, items - first));
}

// ---- the engine ----------------------------------------------------------------------

struct DeviceOp {
    DeviceBuffer<float> weights, bias, scale;
};

class CudaEngine final : public InferenceEngine {
public:
    CudaEngine(int device, Plan plan, GpuMath math)
        : m_device(device), m_plan(std::move(plan)), m_math(math) {
        useDevice(m_device);
        check(cublasCreate(&m_blas), "cublasCreate");
        check(cublasSetStream(m_blas, cudaStreamPerThread), "cublasSetStream");
        // Plain float32 unless TF32 is asked for: TF32 moves outputs by more than the CPU's
        // rounding (accuracy by an image or two in 10 000 on the fixtures).
        check(cublasSetMathMode(
                  m_blas, math == GpuMath::Tf32 ? CUBLAS_TF32_TENSOR_OP_MATH : CUBLAS_DEFAULT_MATH),
              "cublasSetMathMode");
        m_ops.resize(m_plan.ops.size());
        for (std::size_t i = 0; i < m_plan.ops.size(); ++i) {
            const PlanOp& op = m_plan.ops[i];
            m_ops[i].weights.upload(op.weights.data(), op.weights.size());
            m_ops[i].bias.upload(op.bias.data(), op.bias.size());
            m_ops[i].scale.upload(op.scale.data(), op.scale.size());
        }
    }
    ~CudaEngine() override {
        cudaSetDevice(m_device);
        cublasDestroy(m_blas);
    }

    std::string name() const override {
        return m_math == GpuMath::Tf32 ? "cuda tf32 (cuBLAS)" : "cuda float32 (cuBLAS)";
    }
    int inputSize() const override { return static_cast<int>(m_plan.inputSize); }
    int outputSize() const override { return static_cast<int>(m_plan.outputSize); }

    void forward(const float* input, int batch, float* output) override {
        if (batch <= 0) return;
        useDevice(m_device);
        m_input.upload(input, static_cast<std::size_t>(batch * m_plan.inputSize));
        const float* result = forwardDevice(m_input.data(), batch);
        check(cudaMemcpyAsync(output, result,
                              sizeof(float) * static_cast<std::size_t>(batch * m_plan.outputSize),
                              cudaMemcpyDeviceToHost, cudaStreamPerThread),
              "download outputs");
        check(cudaStreamSynchronize(cudaStreamPerThread), "forward");
    }

    // Runs the plan on `batch` samples at `input` (device memory); returns the device address
    // of the outputs (valid until the next call). Asynchronous on the calling thread's stream.
    const float* forwardDevice(const float* input, int batch) {
        useDevice(m_device);
        if (m_plan.ops.empty()) return input;
        long long most = m_plan.inputSize;
        for (const PlanOp& op : m_plan.ops) most = std::max({most, op.inputSize, op.outputSize});
        m_ping.resize(static_cast<std::size_t>(most * batch));
        m_pong.resize(static_cast<std::size_t>(most * batch));
        m_third.resize(static_cast<std::size_t>(most * batch));
        const float* in = input;
        float* out = m_ping.data();
        mark("start", -1);
        for (std::size_t i = 0; i < m_plan.ops.size(); ++i) {
            if (fusesWithPool(i)) {
                // The convolution's bias and activation run inside the pooling that follows.
                const PlanOp& op = m_plan.ops[i];
                const bool fewTaps = hasFewTaps(op);
                if (fewTaps) {  // the pooling computes the convolution at its taps
                    m_fewTapConv = &op;
                    m_fewTapWeights = m_ops[i].weights.data();
                } else {
                    conv(op, m_ops[i], in, batch, out, false);
                }
                m_tapEpilogue = {op.bias.empty() ? nullptr : m_ops[i].bias.data(),
                                 op.activation.kind, op.activation.alpha};
                float* pooled = in == m_third.data() ? m_ping.data() : m_third.data();
                if (pooled == out) pooled = m_pong.data();
                runOp(i + 1, fewTaps ? in : out, batch, pooled);
                mark(fewTaps ? "few-tap conv + epilogue + pooling" : "pooling + conv epilogue",
                     i + 1);
                m_fewTapConv = nullptr;
                m_tapEpilogue = {};
                in = pooled;
                out = pooled == m_ping.data() ? m_pong.data() : m_ping.data();
                ++i;
                continue;
            }
            runOp(i, in, batch, out);
            mark(m_plan.ops[i].kind == OpKind::Conv2D ? "epilogue" : "the op", i);
            in = out;
            out = out == m_ping.data() ? m_pong.data() : m_ping.data();
        }
        return in;
    }

    // Where forwardDevice records an event after each step (bench profiles), or nullptr.
    struct Mark {
        std::string what;
        cudaEvent_t event;
    };
    std::vector<Mark>* marks = nullptr;

private:
    void mark(const char* what, std::ptrdiff_t op) {
        if (!marks) return;
        Mark m{op < 0 ? std::string(what)
                      : m_plan.ops[static_cast<std::size_t>(op)].layerName + ": " + what,
               nullptr};
        check(cudaEventCreate(&m.event), "cudaEventCreate");
        check(cudaEventRecord(m.event, cudaStreamPerThread), "cudaEventRecord");
        marks->push_back(std::move(m));
    }

    // C (rows x cols) = A (rows x k) B (k x cols), all row-major.
    void gemm(const float* a, long long rows, int k, const float* b, int cols, float* c) {
        gemmRowMajor(m_blas, false, false, static_cast<int>(rows), cols, k, a, k, b, cols, 0.f, c,
                     cols);
    }

    void epilogue(const PlanOp& op, const DeviceOp& d, float* data, long long rows, int cols) {
        const ActivationSpec& act = op.activation;
        const float* bias = op.bias.empty() ? nullptr : d.bias.data();
        const long long count = rows * cols;
        if (bias || (!act.isLinear() && act.kind != ActivationKind::Softmax)) {
            forSlices(rows, cols, [&](long long first, long long slice) {
                const long long part = slice * cols;
                biasActivate<<<gridFor(part, kThreads, kMaxBlocks), kThreads, 0,
                               cudaStreamPerThread>>>(
                    data + first * cols, static_cast<unsigned>(part), static_cast<unsigned>(cols),
                    bias, act.kind, act.alpha);
                checkLaunch("bias and activation");
            });
        }
        softmaxIfAny(act, data, count);
    }

    void softmaxIfAny(const ActivationSpec& act, float* data, long long count) {
        if (act.kind != ActivationKind::Softmax) return;
        const int n = std::max(act.rowLength, 1);
        const long long rows = count / n;
        softmaxRows<<<gridFor(rows, kThreads, kMaxBlocks), kThreads, 0, cudaStreamPerThread>>>(
            data, rows, n);
        checkLaunch("softmax");
    }

    void runOp(std::size_t index, const float* in, int n, float* out) {
        const PlanOp& op = m_plan.ops[index];
        const DeviceOp& d = m_ops[index];
        const cudaStream_t stream = cudaStreamPerThread;
        const long long count = n * op.outputSize;
        switch (op.kind) {
            case OpKind::Dense: {
                const long long rows = n * (op.inputSize / op.inFeatures);
                gemm(in, rows, op.inFeatures, d.weights.data(), op.outFeatures, out);
                epilogue(op, d, out, rows, op.outFeatures);
                return;
            }
            case OpKind::Conv2D:
                conv(op, d, in, n, out);
                return;
            case OpKind::MaxPool2D:
            case OpKind::AvgPool2D:
                forSlices(n, op.outputSize, [&](long long first, long long images) {
                    const auto count = static_cast<unsigned>(images * op.outputSize);
                    float* to = out + first * op.outputSize;
                    const bool isMax = op.kind == OpKind::MaxPool2D;
                    if (m_fewTapConv) {
                        const Window2D& cw = m_fewTapConv->window;
                        const FewTapSource src{
                            in + first * cw.inputSize(),
                            reinterpret_cast<const float4*>(m_fewTapWeights), cw,
                            static_cast<unsigned>(m_fewTapConv->outFeatures / 4)};
                        launchPool<4>(isMax, src, to, op.window, count);
                    } else if (op.window.channels % 4 == 0) {
                        launchPool<4>(isMax, MapSource<4>{in + first * op.inputSize}, to, op.window,
                                      count);
                    } else {
                        launchPool<1>(isMax, MapSource<1>{in + first * op.inputSize}, to, op.window,
                                      count);
                    }
                });
                return;
            case OpKind::ChannelAffine: {
                const ActivationSpec& act = op.activation;
                const bool softmax = act.kind == ActivationKind::Softmax;
                const long long rows = count / op.inFeatures;
                forSlices(rows, op.inFeatures, [&](long long first, long long slice) {
                    const long long part = slice * op.inFeatures;
                    channelAffine<<<gridFor(part, kThreads, kMaxBlocks), kThreads, 0, stream>>>(
                        in + first * op.inFeatures, out + first * op.inFeatures,
                        static_cast<unsigned>(part), static_cast<unsigned>(op.inFeatures),
                        d.scale.data(), op.bias.empty() ? nullptr : d.bias.data(),
                        softmax ? ActivationKind::Linear : act.kind, act.alpha);
                    checkLaunch("channel affine");
                });
                softmaxIfAny(act, out, count);
                return;
            }
            case OpKind::Activation:
                check(cudaMemcpyAsync(out, in, sizeof(float) * count, cudaMemcpyDeviceToDevice,
                                      stream),
                      "copy");
                epilogue(op, d, out, count, 1);
                return;
        }
    }

    template <int W, class Source>
    void launchPool(bool isMax, const Source& src, float* to, const Window2D& w, unsigned count) {
        const unsigned total = count / W;
        const int grid = gridFor(total, kThreads, kMaxBlocks);
        (isMax ? pool<true, W, Source>
               : pool<false, W, Source>)<<<grid, kThreads, 0, cudaStreamPerThread>>>(
            src, to, w, total, m_tapEpilogue);
        checkLaunch("pooling");
    }

    // A convolution the pooling after it computes at its taps (FewTapSource).
    static bool hasFewTaps(const PlanOp& op) {
        const Window2D& w = op.window;
        return w.kernelH * w.kernelW * w.channels <= kDirectTaps && op.outFeatures % 4 == 0;
    }

    // A Conv2D whose activation works element by element, followed by pooling.
    bool fusesWithPool(std::size_t i) const {
        if (i + 1 >= m_plan.ops.size() || m_plan.ops[i].kind != OpKind::Conv2D) return false;
        const OpKind next = m_plan.ops[i + 1].kind;
        return (next == OpKind::MaxPool2D || next == OpKind::AvgPool2D) &&
               m_plan.ops[i].activation.kind != ActivationKind::Softmax;
    }

    void conv(const PlanOp& op, const DeviceOp& d, const float* in, int n, float* out,
              bool withEpilogue = true) {
        const Window2D& w = op.window;
        const int k = w.kernelH * w.kernelW * w.channels;
        const long long pixels = w.outputPixels();
        const bool direct = w.kernelH == 1 && w.kernelW == 1 && w.strideH == 1 && w.strideW == 1 &&
                            w.padTop == 0 && w.padLeft == 0;
        if (direct) {  // a 1x1 convolution is a Dense over the pixels
            gemm(in, n * pixels, k, d.weights.data(), op.outFeatures, out);
            mark("gemm", &op - m_plan.ops.data());
        } else {
            const int slice = static_cast<int>(
                std::clamp<long long>(kPatchFloats / std::max<long long>(pixels * k, 1), 1, n));
            m_patches.resize(static_cast<std::size_t>(slice * pixels * k));
            for (int first = 0; first < n; first += slice) {
                const int images = std::min(slice, n - first);
                const auto total = static_cast<unsigned>(images * pixels * k);
                const float* from = in + first * w.inputSize();
                if (w.channels % 4 == 0)
                    im2col4<<<gridFor(total / 4, kThreads, kMaxBlocks), kThreads, 0,
                              cudaStreamPerThread>>>(reinterpret_cast<const float4*>(from),
                                                     reinterpret_cast<float4*>(m_patches.data()), w,
                                                     total / 4);
                else
                    im2col<<<gridFor(total, kThreads, kMaxBlocks), kThreads, 0,
                             cudaStreamPerThread>>>(from, m_patches.data(), w, total);
                checkLaunch("im2col");
                mark("im2col", &op - m_plan.ops.data());
                gemm(m_patches.data(), images * pixels, k, d.weights.data(), op.outFeatures,
                     out + first * pixels * op.outFeatures);
                mark("gemm", &op - m_plan.ops.data());
            }
        }
        if (withEpilogue) epilogue(op, d, out, n * pixels, op.outFeatures);
    }

    int m_device;
    Plan m_plan;
    GpuMath m_math;
    cublasHandle_t m_blas = nullptr;
    std::vector<DeviceOp> m_ops;
    DeviceBuffer<float> m_input, m_ping, m_pong, m_third, m_patches;
    TapEpilogue m_tapEpilogue;             // set while a pooling runs its convolution's epilogue
    const PlanOp* m_fewTapConv = nullptr;  // set while a pooling computes its convolution
    const float* m_fewTapWeights = nullptr;
};

double sparsityOf(const std::vector<float>& w) {
    if (w.empty()) return 0.0;
    return static_cast<double>(std::count(w.begin(), w.end(), 0.f)) / static_cast<double>(w.size());
}

}  // namespace

std::unique_ptr<InferenceEngine> makeEngine(int device, const Model& model,
                                            const CompressedEngineOptions& options,
                                            KernelReport* report) {
    PlanOptions planOptions;
    planOptions.logits = options.engine.logits;
    const GpuMath math = options.engine.gpuMath;
    auto engine = std::make_unique<CudaEngine>(device, compilePlan(model, planOptions), math);
    if (report) {
        const bool tf32 = math == GpuMath::Tf32;
        report->engine = engine->name();
        report->layers.clear();
        for (const auto& layer : model.layers)
            if (layer.hasKernel())
                report->layers.push_back(
                    {layer.name, layer.className, tf32 ? "cuda tf32" : "cuda float32",
                     tf32 ? "the GPU multiplies in TF32 (cuBLAS tensor cores)"
                          : "the GPU runs float32 kernels (cuBLAS, no TF32)",
                     sparsityOf(layer.kernel.toFloatVector()), 0, -1, -1, -1, false});
    }
    return engine;
}

ForwardTiming timeForward(InferenceEngine& engine, const float* hostInput, int batch, int repeats) {
    auto* gpu = dynamic_cast<CudaEngine*>(&engine);
    if (!gpu) throw Error("timeForward: not a CUDA engine");
    DeviceBuffer<float> input;
    input.upload(hostInput, static_cast<std::size_t>(batch) * engine.inputSize());
    cudaEvent_t start, stop;
    check(cudaEventCreate(&start), "cudaEventCreate");
    check(cudaEventCreate(&stop), "cudaEventCreate");
    std::vector<double> ms;
    for (int r = -2; r < repeats; ++r) {  // two warm-ups
        check(cudaEventRecord(start, cudaStreamPerThread), "cudaEventRecord");
        gpu->forwardDevice(input.data(), batch);
        check(cudaEventRecord(stop, cudaStreamPerThread), "cudaEventRecord");
        check(cudaEventSynchronize(stop), "forward");
        float elapsed = 0.f;
        check(cudaEventElapsedTime(&elapsed, start, stop), "cudaEventElapsedTime");
        if (r >= 0) ms.push_back(elapsed);
    }
    cudaEventDestroy(start);
    cudaEventDestroy(stop);
    std::sort(ms.begin(), ms.end());
    ForwardTiming t;
    t.medianMs = ms.empty() ? 0 : ms[ms.size() / 2];
    t.minMs = ms.empty() ? 0 : ms.front();
    return t;
}

std::vector<std::pair<std::string, double>> profileForward(InferenceEngine& engine,
                                                           const float* hostInput, int batch) {
    auto* gpu = dynamic_cast<CudaEngine*>(&engine);
    if (!gpu) throw Error("profileForward: not a CUDA engine");
    DeviceBuffer<float> input;
    input.upload(hostInput, static_cast<std::size_t>(batch) * engine.inputSize());
    gpu->forwardDevice(input.data(), batch);  // warm-up: buffers sized, cuBLAS's choices made
    std::vector<CudaEngine::Mark> marks;
    gpu->marks = &marks;
    gpu->forwardDevice(input.data(), batch);
    gpu->marks = nullptr;
    check(cudaStreamSynchronize(cudaStreamPerThread), "forward");
    std::vector<std::pair<std::string, double>> steps;  // summed over a convolution's slices
    for (std::size_t i = 1; i < marks.size(); ++i) {
        float ms = 0.f;
        check(cudaEventElapsedTime(&ms, marks[i - 1].event, marks[i].event), "elapsed");
        auto same = [&](const auto& s) { return s.first == marks[i].what; };
        auto it = std::find_if(steps.begin(), steps.end(), same);
        if (it == steps.end())
            steps.emplace_back(marks[i].what, ms);
        else
            it->second += ms;
    }
    for (const auto& m : marks) cudaEventDestroy(m.event);
    return steps;
}

}  // namespace cwb::cuda
