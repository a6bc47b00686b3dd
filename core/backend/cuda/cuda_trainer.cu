// Training of multilayer perceptrons (the Keras students: Dense layers, ReLU or linear, the
// final softmax left to the loss) on a GPU, as train::trainModel trains them on the CPU: the
// same batches in the same order, the same loss (labels, or Hinton's distillation loss against
// the teacher's logits, in double) and the same optimizer arithmetic, so results agree to float
// rounding (cuBLAS sums the products in another order than OpenBLAS). One batch is a CUDA graph
// of about a dozen kernels and products that reads the batch number from device memory, so the
// host only launches it; reports come every kReportBatches batches and at the end of an epoch.
#include <cuda_runtime.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <memory>
#include <vector>

#include "core/backend/cuda/cuda_jobs.h"
#include "core/backend/cuda/cuda_util.cuh"
#include "core/error.h"
#include "core/train/layer_op.h"
#include "core/train/soft_targets.h"

namespace cwb::cuda {
namespace {

constexpr int kThreads = 256;
constexpr int kMaxClasses = 64;      // the loss kernel keeps a sample's classes in registers
constexpr int kReportBatches = 128;  // batches between reports (and cancellation checks)
constexpr int kEvalRows = 4096;      // evaluation batch

// ---- kernels -------------------------------------------------------------------------------

// x (count x pixels) = the images order[first + i], first = *batch * batchSize.
__global__ void gatherKernel(const float4* images, const int* order, const int* batch,
                             int batchSize, int count, int pixels4, float4* x) {
    const int first = *batch * batchSize;
    const long long total = static_cast<long long>(count) * pixels4;
    for (long long i = blockIdx.x * static_cast<long long>(blockDim.x) + threadIdx.x; i < total;
         i += static_cast<long long>(gridDim.x) * blockDim.x) {
        const long long row = i / pixels4, col = i - row * pixels4;
        x[i] = images[static_cast<long long>(order[first + row]) * pixels4 + col];
    }
}

// z = z + bias (one rounding, as OpenBLAS adds the product to the bias copied into C), then
// ReLU as activation_math.cpp: z > 0 ? z : 0.
__global__ void biasKernel(float* z, const float* bias, int rows, int cols, bool relu) {
    const long long total = static_cast<long long>(rows) * cols;
    for (long long i = blockIdx.x * static_cast<long long>(blockDim.x) + threadIdx.x; i < total;
         i += static_cast<long long>(gridDim.x) * blockDim.x) {
        const float v = __fadd_rn(z[i], bias[i % cols]);
        z[i] = relu ? (v > 0.f ? v : 0.f) : v;
    }
}

// log softmax(z / T) in double, as soft_targets.cpp.
__device__ void logSoftmax(const float* z, int n, double temperature, double* out) {
    double maxZ = z[0];
    for (int i = 1; i < n; ++i) maxZ = fmax(maxZ, static_cast<double>(z[i]));
    double sum = 0.0;
    for (int i = 0; i < n; ++i) sum += exp((static_cast<double>(z[i]) - maxZ) / temperature);
    const double logSum = log(sum);
    for (int i = 0; i < n; ++i) out[i] = (static_cast<double>(z[i]) - maxZ) / temperature - logSum;
}

struct LossParams {
    const float* logits;   // count x classes
    const float* teacher;  // samples x classes; null: labels only
    const unsigned char* labels;
    const int* order;
    const int* batch;
    int batchSize, count, classes;
    double temperature, weight;
    float* grad;             // count x classes: dLoss/dlogits over the batch mean
    double* loss;            // per sample, at its place in the epoch
    unsigned char* correct;  // per sample: argmax == label
};

// One sample a thread: crossEntropyWithLogits or distillationLoss of soft_targets.cpp, the
// gradient divided by the batch as trainer.cpp divides it.
__global__ void lossKernel(LossParams p) {
    const int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= p.count) return;
    const int at = *p.batch * p.batchSize + i;
    const int sample = p.order[at];
    const int n = p.classes, label = p.labels[sample];
    const float* z = p.logits + static_cast<long long>(i) * n;
    double logP1[kMaxClasses], logPs[kMaxClasses], logPt[kMaxClasses];
    logSoftmax(z, n, 1.0, logP1);
    const double inv = 1.0 / p.count;
    float* g = p.grad + static_cast<long long>(i) * n;
    double loss;
    if (p.teacher) {
        const double t = p.temperature, w = p.weight;
        logSoftmax(z, n, t, logPs);
        logSoftmax(p.teacher + static_cast<long long>(sample) * n, n, t, logPt);
        double kl = 0.0;
        for (int c = 0; c < n; ++c) kl += exp(logPt[c]) * (logPt[c] - logPs[c]);
        loss = w * (t * t) * kl - (1.0 - w) * logP1[label];
        for (int c = 0; c < n; ++c) {
            const double soft = t * (exp(logPs[c]) - exp(logPt[c]));
            const double hard = exp(logP1[c]) - (c == label ? 1.0 : 0.0);
            g[c] = static_cast<float>(
                static_cast<double>(static_cast<float>(w * soft + (1.0 - w) * hard)) * inv);
        }
    } else {
        loss = -logP1[label];
        for (int c = 0; c < n; ++c)
            g[c] = static_cast<float>(
                static_cast<double>(static_cast<float>(exp(logP1[c]) - (c == label ? 1.0 : 0.0))) *
                inv);
    }
    int best = 0;  // the first largest, as std::max_element
    for (int c = 1; c < n; ++c)
        if (z[c] > z[best]) best = c;
    p.loss[at] = loss;
    p.correct[at] = best == label;
}

// The ReLU's slope from its output, in place: d = y > 0 ? d : 0.
__global__ void reluBackwardKernel(const float* y, float* d, long long n) {
    for (long long i = blockIdx.x * static_cast<long long>(blockDim.x) + threadIdx.x; i < n;
         i += static_cast<long long>(gridDim.x) * blockDim.x)
        d[i] = y[i] > 0.f ? d[i] : 0.f;
}

// The bias gradient: column sums of dz, row after row in float as dense_op.cpp adds them.
__global__ void biasGradientKernel(const float* dz, int rows, int cols, float* out) {
    const int j = blockIdx.x * blockDim.x + threadIdx.x;
    if (j >= cols) return;
    float sum = 0.f;
    for (int r = 0; r < rows; ++r) sum = __fadd_rn(sum, dz[static_cast<long long>(r) * cols + j]);
    out[j] = sum;
}

// The tensors one optimizer step updates (kernel and bias of every layer).
constexpr int kMaxTensors = 16;
struct UpdateParams {
    float* value[kMaxTensors];
    const float* gradient[kMaxTensors];
    float* first[kMaxTensors];   // SGD velocity / Adam m
    float* second[kMaxTensors];  // Adam v
    long long end[kMaxTensors];  // running element counts
    int tensors;
    bool adam;
    float b1, b2, eps, lr, momentum;
    const float* steps;  // Adam: the step size of each batch of the epoch
    const int* batch;
};

// optimizer.cpp's update, operation for operation (Adam in Keras's form, or SGD with
// momentum); this file has no contraction into fused multiply-adds.
__global__ void updateKernel(UpdateParams p) {
    const long long total = p.end[p.tensors - 1];
    const float step = p.adam ? p.steps[*p.batch] : 0.f;
    for (long long i = blockIdx.x * static_cast<long long>(blockDim.x) + threadIdx.x; i < total;
         i += static_cast<long long>(gridDim.x) * blockDim.x) {
        int t = 0;
        while (i >= p.end[t]) ++t;
        const long long k = i - (t ? p.end[t - 1] : 0);
        const float g = p.gradient[t][k];
        if (p.adam) {
            const float m = p.b1 * p.first[t][k] + (1.f - p.b1) * g;
            const float v = p.b2 * p.second[t][k] + (1.f - p.b2) * (g * g);
            p.first[t][k] = m;
            p.second[t][k] = v;
            p.value[t][k] -= step * m / (sqrtf(v) + p.eps);
        } else {
            const float vel = p.momentum * p.first[t][k] - p.lr * g;
            p.first[t][k] = vel;
            p.value[t][k] += vel;
        }
    }
}

__global__ void nextBatchKernel(int* batch) { ++*batch; }

// ---- the trainer -----------------------------------------------------------------------------

struct DenseLayer {
    Layer* layer;
    int in = 0, out = 0;
    bool relu = false;
    DeviceBuffer<float> kernel, bias, gradKernel, gradBias;
    DeviceBuffer<float> firstKernel, secondKernel, firstBias, secondBias;
    DeviceBuffer<float> activation, gradient;  // rows x out
};

// The Dense layers of an MLP in order, or an empty list (and the reason) for a model this
// trainer does not take: other layers than Input/Flatten/Reshape, Dense and rate-0 Dropout,
// activations other than ReLU and linear (softmax only last, as logits), more classes than
// kMaxClasses.
std::vector<Layer*> denseLayers(Model& model, std::string& reason) {
    std::vector<Layer*> dense;
    const int count = static_cast<int>(model.layers.size());
    for (int i = 0; i < count; ++i) {
        Layer& l = model.layers[i];
        switch (l.kind) {
            case LayerKind::Input:
            case LayerKind::Flatten:
            case LayerKind::Reshape:
                break;
            case LayerKind::Dropout:
                if (l.dropoutRate > 0.f) reason = "dropout";
                break;
            case LayerKind::Dense:
                if (l.activation != ActivationKind::Relu &&
                    l.activation != ActivationKind::Linear &&
                    !(l.activation == ActivationKind::Softmax && i + 1 == count))
                    reason = "a " + activationName(l.activation) + " activation";
                dense.push_back(&l);
                break;
            default:
                reason = "a " + layerKindName(l.kind) + " layer";
        }
        if (!reason.empty()) return {};
    }
    if (dense.empty()) reason = "no Dense layer";
    return reason.empty() ? dense : std::vector<Layer*>{};
}

class GpuTrainer {
public:
    GpuTrainer(int device, Model& model, std::vector<Layer*> dense, const Dataset& train,
               const train::TrainOptions& options)
        : m_device(device), m_model(model), m_options(options), m_train(train) {
        useDevice(device);
        check(cudaStreamCreateWithFlags(&m_stream, cudaStreamNonBlocking), "cudaStreamCreate");
        check(cublasCreate(&m_blas), "cublasCreate");
        check(cublasSetStream(m_blas, m_stream), "cublasSetStream");
        check(cublasSetMathMode(m_blas, CUBLAS_DEFAULT_MATH), "cublasSetMathMode");
        // A workspace of our own: cuBLAS then allocates nothing while a graph is captured.
        m_workspace.resize(8 << 20);
        check(cublasSetWorkspace(m_blas, m_workspace.data(), m_workspace.size() * 4),
              "cublasSetWorkspace");
        m_rows = std::max(options.batchSize, kEvalRows);
        for (Layer* l : dense) {
            auto d = std::make_unique<DenseLayer>();
            d->layer = l;
            d->in = static_cast<int>(l->kernel.shape()[0]);
            d->out = static_cast<int>(l->kernel.shape()[1]);
            d->relu = l->activation == ActivationKind::Relu;
            const std::size_t weights = static_cast<std::size_t>(d->in) * d->out;
            d->kernel.upload(l->kernel.floats().data(), weights);
            std::vector<float> bias(static_cast<std::size_t>(d->out), 0.f);
            if (l->useBias) bias.assign(l->bias.floats().begin(), l->bias.floats().end());
            d->bias.upload(bias.data(), bias.size());
            for (DeviceBuffer<float>* b : {&d->gradKernel, &d->firstKernel, &d->secondKernel})
                zeros(*b, weights);
            for (DeviceBuffer<float>* b : {&d->gradBias, &d->firstBias, &d->secondBias})
                zeros(*b, d->out);
            d->activation.resize(static_cast<std::size_t>(m_rows) * d->out);
            d->gradient.resize(static_cast<std::size_t>(m_rows) * d->out);
            m_layers.push_back(std::move(d));
        }
        m_classes = m_layers.back()->out;
        m_pixels = train.pixelsPerImage();
        m_images.upload(train.images.data(), train.images.size());
        m_labels.upload(train.labels.data(), train.labels.size());
        if (options.distill.weight > 0.0)
            m_teacher.upload(options.distill.teacherLogits,
                             static_cast<std::size_t>(train.size()) * m_classes);
        m_input.resize(static_cast<std::size_t>(m_rows) * m_pixels);
        m_order.resize(train.size());
        m_loss.resize(train.size());
        m_correct.resize(train.size());
        m_batch.resize(1);
        m_batches = (train.size() + options.batchSize - 1) / options.batchSize;
        m_steps.resize(m_batches);
        // The uploads and clears above ran on the default stream; m_stream does not wait
        // for it.
        check(cudaDeviceSynchronize(), "training setup");
    }
    ~GpuTrainer() {
        if (m_graph) cudaGraphExecDestroy(m_graph);
        cublasDestroy(m_blas);
        cudaStreamDestroy(m_stream);
    }
    GpuTrainer(const GpuTrainer&) = delete;
    GpuTrainer& operator=(const GpuTrainer&) = delete;

    train::TrainResult run(const Dataset* test, const train::TrainCallbacks& callbacks) {
        const int n = m_train.size(), batchSize = m_options.batchSize;
        const long long totalBatches = static_cast<long long>(m_batches) * m_options.epochs;
        long long done = 0;
        train::TrainResult result;
        std::vector<double> loss(static_cast<std::size_t>(n));
        std::vector<unsigned char> correct(static_cast<std::size_t>(n));
        for (int epoch = 1; epoch <= m_options.epochs; ++epoch) {
            const auto start = std::chrono::steady_clock::now();
            const std::vector<int> order = train::epochOrder(n, m_options.seed, epoch);
            check(cudaMemcpyAsync(m_order.data(), order.data(), sizeof(int) * order.size(),
                                  cudaMemcpyHostToDevice, m_stream),
                  "upload order");
            uploadSteps(epoch);
            check(cudaMemsetAsync(m_batch.data(), 0, sizeof(int), m_stream), "cudaMemset");
            double lossSum = 0.0;
            int right = 0, counted = 0;  // samples summed into lossSum so far
            for (int b = 0; b < m_batches; ++b) {
                const int count = std::min(batchSize, n - b * batchSize);
                if (count == batchSize)
                    launchGraph();
                else
                    step(count);
                ++done;
                if ((b + 1) % kReportBatches != 0 && b + 1 != m_batches) continue;
                // Reports in sample order, as the CPU sums them.
                const int seen = std::min(n, (b + 1) * batchSize);
                download(loss.data() + counted, m_loss.data() + counted, seen - counted);
                download(correct.data() + counted, m_correct.data() + counted, seen - counted);
                for (; counted < seen; ++counted) {
                    lossSum += loss[counted];
                    right += correct[counted];
                }
                if (!std::isfinite(lossSum)) {
                    copyBack();
                    throw Error(m_model.sourcePath +
                                ": training diverged (loss is not finite) in epoch " +
                                std::to_string(epoch) + "; lower the learning rate");
                }
                if (callbacks.onBatch)
                    callbacks.onBatch({epoch, m_options.epochs, b + 1, m_batches, seen,
                                       lossSum / seen, double(right) / seen});
                try {
                    callbacks.progress.step(done, totalBatches);
                } catch (...) {
                    copyBack();  // a cancelled run keeps the last finished batch's weights
                    throw;
                }
            }
            train::EpochReport report;
            report.epoch = epoch;
            report.epochs = m_options.epochs;
            report.trainSeconds =
                std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
            report.imagesPerSecond = n / std::max(report.trainSeconds, 1e-9);
            report.trainLoss = lossSum / n;
            report.trainAccuracy = double(right) / n;
            report.testLoss = report.testAccuracy = std::numeric_limits<double>::quiet_NaN();
            if (test) {
                const train::Evaluation e = evaluate(*test);
                report.testLoss = e.loss;
                report.testAccuracy = e.accuracy;
                report.testSamples = e.samples;
                callbacks.progress.step(done, totalBatches);
            }
            result.epochs.push_back(report);
            if (callbacks.onEpoch) callbacks.onEpoch(report);
        }
        copyBack();
        return result;
    }

private:
    static void zeros(DeviceBuffer<float>& b, std::size_t n) {
        b.resize(n);
        check(cudaMemset(b.data(), 0, n * sizeof(float)), "cudaMemset");
    }

    template <class T>
    void download(T* host, const T* device, int n) {
        if (n <= 0) return;
        check(cudaMemcpyAsync(host, device, sizeof(T) * n, cudaMemcpyDeviceToHost, m_stream),
              "download");
        check(cudaStreamSynchronize(m_stream), "training step");
    }

    // Adam's step size of every batch of `epoch`, as optimizer.cpp computes it (in double,
    // then rounded to float) from the optimizer's step count.
    void uploadSteps(int epoch) {
        const train::OptimizerOptions& o = m_options.optimizer;
        std::vector<float> steps(static_cast<std::size_t>(m_batches));
        for (int b = 0; b < m_batches; ++b) {
            const double t =
                static_cast<double>(static_cast<long long>(epoch - 1) * m_batches + b + 1);
            steps[b] = static_cast<float>(o.learningRate * std::sqrt(1.0 - std::pow(o.beta2, t)) /
                                          (1.0 - std::pow(o.beta1, t)));
        }
        check(cudaMemcpyAsync(m_steps.data(), steps.data(), sizeof(float) * steps.size(),
                              cudaMemcpyHostToDevice, m_stream),
              "upload steps");
        check(cudaStreamSynchronize(m_stream), "upload steps");
    }

    // Logits of `rows` input rows in m_input (the last layer's activation).
    void forward(int rows) {
        const float* in = m_input.data();
        for (auto& d : m_layers) {
            gemmRowMajor(m_blas, false, false, rows, d->out, d->in, in, d->in, d->kernel.data(),
                         d->out, 0.f, d->activation.data(), d->out);
            biasKernel<<<gridFor(static_cast<long long>(rows) * d->out, kThreads), kThreads, 0,
                         m_stream>>>(d->activation.data(), d->bias.data(), rows, d->out, d->relu);
            checkLaunch("bias kernel");
            in = d->activation.data();
        }
    }

    // One batch of `count` samples: the batch number is read from and advanced in m_batch.
    void step(int count) {
        gatherKernel<<<gridFor(static_cast<long long>(count) * m_pixels / 4, kThreads), kThreads, 0,
                       m_stream>>>(reinterpret_cast<const float4*>(m_images.data()), m_order.data(),
                                   m_batch.data(), m_options.batchSize, count, m_pixels / 4,
                                   reinterpret_cast<float4*>(m_input.data()));
        checkLaunch("gather kernel");
        forward(count);
        LossParams lp{m_layers.back()->activation.data(),
                      m_teacher.size() ? m_teacher.data() : nullptr,
                      m_labels.data(),
                      m_order.data(),
                      m_batch.data(),
                      m_options.batchSize,
                      count,
                      m_classes,
                      m_options.distill.temperature,
                      m_options.distill.weight,
                      m_layers.back()->gradient.data(),
                      m_loss.data(),
                      m_correct.data()};
        lossKernel<<<(count + 127) / 128, 128, 0, m_stream>>>(lp);
        checkLaunch("loss kernel");
        for (std::size_t i = m_layers.size(); i-- > 0;) {
            DenseLayer& d = *m_layers[i];
            const float* in = i ? m_layers[i - 1]->activation.data() : m_input.data();
            const long long size = static_cast<long long>(count) * d.out;
            if (d.relu) {
                reluBackwardKernel<<<gridFor(size, kThreads), kThreads, 0, m_stream>>>(
                    d.activation.data(), d.gradient.data(), size);
                checkLaunch("relu backward kernel");
            }
            // dW = in^T dz, db = column sums of dz, and d(in) = dz W^T for the layer below.
            gemmRowMajor(m_blas, true, false, d.in, d.out, count, in, d.in, d.gradient.data(),
                         d.out, 0.f, d.gradKernel.data(), d.out);
            biasGradientKernel<<<(d.out + 127) / 128, 128, 0, m_stream>>>(d.gradient.data(), count,
                                                                          d.out, d.gradBias.data());
            checkLaunch("bias gradient kernel");
            if (i)
                gemmRowMajor(m_blas, false, true, count, d.in, d.out, d.gradient.data(), d.out,
                             d.kernel.data(), d.out, 0.f, m_layers[i - 1]->gradient.data(), d.in);
        }
        update();
        nextBatchKernel<<<1, 1, 0, m_stream>>>(m_batch.data());
        checkLaunch("next batch kernel");
    }

    void update() {
        UpdateParams u{};
        long long total = 0;
        for (auto& d : m_layers) {
            const bool bias = d->layer->useBias;
            for (int part = 0; part < (bias ? 2 : 1); ++part) {
                if (u.tensors == kMaxTensors)
                    throw Error(m_model.sourcePath + ": too many layers to train on the GPU");
                const int t = u.tensors++;
                u.value[t] = part ? d->bias.data() : d->kernel.data();
                u.gradient[t] = part ? d->gradBias.data() : d->gradKernel.data();
                u.first[t] = part ? d->firstBias.data() : d->firstKernel.data();
                u.second[t] = part ? d->secondBias.data() : d->secondKernel.data();
                total += part ? d->out : static_cast<long long>(d->in) * d->out;
                u.end[t] = total;
            }
        }
        const train::OptimizerOptions& o = m_options.optimizer;
        u.adam = o.kind == train::OptimizerKind::Adam;
        u.b1 = static_cast<float>(o.beta1);
        u.b2 = static_cast<float>(o.beta2);
        u.eps = static_cast<float>(o.epsilon);
        u.lr = static_cast<float>(o.learningRate);
        u.momentum = static_cast<float>(o.momentum);
        u.steps = m_steps.data();
        u.batch = m_batch.data();
        updateKernel<<<gridFor(total, kThreads), kThreads, 0, m_stream>>>(u);
        checkLaunch("update kernel");
    }

    // A whole batch as one graph, captured the first time.
    void launchGraph() {
        if (!m_graph) {
            cudaGraph_t graph = nullptr;
            check(cudaStreamBeginCapture(m_stream, cudaStreamCaptureModeThreadLocal),
                  "cudaStreamBeginCapture");
            try {
                step(m_options.batchSize);
            } catch (...) {
                cudaStreamEndCapture(m_stream, &graph);
                if (graph) cudaGraphDestroy(graph);
                throw;
            }
            check(cudaStreamEndCapture(m_stream, &graph), "cudaStreamEndCapture");
            const cudaError_t made = cudaGraphInstantiate(&m_graph, graph, 0);
            cudaGraphDestroy(graph);
            check(made, "cudaGraphInstantiate");
        }
        check(cudaGraphLaunch(m_graph, m_stream), "cudaGraphLaunch");
    }

    // Loss and accuracy on `data` in inference mode (the same layers: an MLP without dropout
    // computes the same in both modes), summed in sample order as trainer.cpp does.
    train::Evaluation evaluate(const Dataset& data) {
        const int n =
            m_options.evalLimit > 0 ? std::min(m_options.evalLimit, data.size()) : data.size();
        train::Evaluation e;
        double lossSum = 0.0;
        int right = 0;
        std::vector<float> logits(static_cast<std::size_t>(kEvalRows) * m_classes);
        for (int first = 0; first < n; first += kEvalRows) {
            const int rows = std::min(kEvalRows, n - first);
            check(cudaMemcpyAsync(m_input.data(), data.image(first),
                                  sizeof(float) * static_cast<std::size_t>(rows) * m_pixels,
                                  cudaMemcpyHostToDevice, m_stream),
                  "upload images");
            forward(rows);
            download(logits.data(), m_layers.back()->activation.data(), rows * m_classes);
            for (int i = 0; i < rows; ++i) {
                const float* z = logits.data() + static_cast<std::size_t>(i) * m_classes;
                const int label = data.labels[first + i];
                lossSum += train::crossEntropyWithLogits(z, m_classes, label, nullptr);
                right += std::max_element(z, z + m_classes) - z == label;
            }
        }
        e.samples = n;
        e.loss = n ? lossSum / n : 0.0;
        e.accuracy = n ? double(right) / n : 0.0;
        return e;
    }

    // The trained parameters into the model's tensors.
    void copyBack() {
        check(cudaStreamSynchronize(m_stream), "training");
        for (auto& d : m_layers) {
            d->kernel.download(d->layer->kernel.mutableFloats().data(),
                               static_cast<std::size_t>(d->in) * d->out);
            if (d->layer->useBias) d->bias.download(d->layer->bias.mutableFloats().data(), d->out);
        }
    }

    int m_device;
    Model& m_model;
    train::TrainOptions m_options;
    const Dataset& m_train;
    cudaStream_t m_stream = nullptr;
    cublasHandle_t m_blas = nullptr;
    cudaGraphExec_t m_graph = nullptr;
    std::vector<std::unique_ptr<DenseLayer>> m_layers;
    int m_rows = 0, m_classes = 0, m_pixels = 0, m_batches = 0;
    DeviceBuffer<float> m_workspace, m_images, m_teacher, m_input, m_steps;
    DeviceBuffer<unsigned char> m_labels, m_correct;
    DeviceBuffer<int> m_order, m_batch;
    DeviceBuffer<double> m_loss;
};

}  // namespace

bool trainOnGpu(int device, Model& model, const Dataset& train, const Dataset* test,
                const train::TrainOptions& options, const train::TrainCallbacks& callbacks,
                train::TrainResult& result, std::string& reason) {
    train::checkTrainOptions(options, train);
    if (!model.evaluable)
        throw Error(model.sourcePath + ": cannot train this model: " +
                    (model.notEvaluableReason.empty() ? "it has no architecture"
                                                      : model.notEvaluableReason));
    model.inferShapes();
    std::vector<Layer*> dense = denseLayers(model, reason);
    if (dense.empty()) return false;
    if (train.pixelsPerImage() % 4 != 0) {
        reason = "images whose pixel count is not a multiple of 4";
        return false;
    }
    const long long inputs = shapeElements(model.inputShape);
    const int classes = static_cast<int>(dense.back()->kernel.shape()[1]);
    if (classes > kMaxClasses) {
        reason = "more than " + std::to_string(kMaxClasses) + " classes";
        return false;
    }
    train::checkDataFits(inputs, classes, model, train);
    if (test) train::checkDataFits(inputs, classes, model, *test);
    train::checkTeacherFits(options.distill, classes);
    GpuTrainer trainer(device, model, std::move(dense), train, options);
    result = trainer.run(test, callbacks);
    return true;
}

}  // namespace cwb::cuda
