// The Llama forward pass on the GPU; see llama_cuda.h. The order of steps is LlamaForward's
// (core/llm/llama_forward.cpp); only the products and kernels differ.
#include <cmath>
#include <string>
#include <vector>

#include "core/llm/cuda/batch_kernels.cuh"
#include "core/llm/cuda/flash_attention.cuh"
#include "core/llm/cuda/llama_cuda.h"
#include "core/llm/cuda/llama_kernels.cuh"
#include "core/llm/cuda/matmul.cuh"

namespace cwb {

namespace cudallm {
namespace {

constexpr int kDefaultContext = 2048;

struct DeviceBlock {
    DeviceBuffer attnNorm, ffnNorm;
    DeviceMatrix q, k, v, o, gate, up, down;
};

float* floats(const DeviceBuffer& b) { return b.as<float>(); }

class CudaLlamaRunner final : public LlamaRunner {
public:
    CudaLlamaRunner(int device, const LlamaConfig& config, const LlamaWeights& weights,
                    const ForwardOptions& options)
        : m_config(config), m_options(options), m_device(device) {
        validateLlama(config, weights);
        check(cudaSetDevice(device), "selecting the GPU");
        check(cudaStreamCreateWithFlags(&m_stream, cudaStreamNonBlocking), "creating a stream");
        check(cublasCreate(&m_blas), "starting cuBLAS");
        check(cublasSetStream(m_blas, m_stream), "starting cuBLAS");
        m_capacity = options.contextLength > 0 ? options.contextLength
                     : config.maxSequence > 0  ? config.maxSequence
                                               : kDefaultContext;
        m_embedding = uploadMatrix(weights.embedding, m_stream);
        for (const LlamaBlockWeights& b : weights.blocks) {
            DeviceBlock d;
            d.attnNorm = uploadFloats(b.attnNorm, m_stream);
            d.ffnNorm = uploadFloats(b.ffnNorm, m_stream);
            d.q = uploadMatrix(b.q, m_stream);
            d.k = uploadMatrix(b.k, m_stream);
            d.v = uploadMatrix(b.v, m_stream);
            d.o = uploadMatrix(b.o, m_stream);
            d.gate = uploadMatrix(b.gate, m_stream);
            d.up = uploadMatrix(b.up, m_stream);
            d.down = uploadMatrix(b.down, m_stream);
            m_blocks.push_back(std::move(d));
        }
        m_finalNorm = uploadFloats(weights.finalNorm, m_stream);
        chooseBatchActivations();
        // A tied output is the embedding's own tensor: share its device copy.
        m_devicePosition.reserve(sizeof(int));
        const bool tied = weights.output.bytes() == weights.embedding.bytes() &&
                          weights.output.dtype() == weights.embedding.dtype();
        if (!tied) m_output = uploadMatrix(weights.output, m_stream);
        m_outputMatrix = tied ? &m_embedding : &m_output;

        // RoPE angles in double, rounded once, as the CPU computes them.
        const int half = config.headDim / 2;
        std::vector<float> cosTable(static_cast<std::size_t>(m_capacity) * half),
            sinTable(cosTable.size());
        for (int i = 0; i < half; ++i) {
            const double frequency =
                std::pow(static_cast<double>(config.ropeTheta), -2.0 * i / config.headDim);
            for (int p = 0; p < m_capacity; ++p) {
                const double angle = p * frequency;
                cosTable[static_cast<std::size_t>(p) * half + i] =
                    static_cast<float>(std::cos(angle));
                sinTable[static_cast<std::size_t>(p) * half + i] =
                    static_cast<float>(std::sin(angle));
            }
        }
        m_cos.reserve(cosTable.size() * sizeof(float));
        m_sin.reserve(sinTable.size() * sizeof(float));
        check(cudaMemcpy(m_cos.as<void>(), cosTable.data(), m_cos.bytes(), cudaMemcpyHostToDevice),
              "copying RoPE tables");
        check(cudaMemcpy(m_sin.as<void>(), sinTable.data(), m_sin.bytes(), cudaMemcpyHostToDevice),
              "copying RoPE tables");
        const std::size_t kvFloats =
            static_cast<std::size_t>(m_capacity) * config.kvHeads * config.headDim;
        for (int l = 0; l < config.layers; ++l) {
            m_keys.emplace_back(kvFloats * sizeof(float));
            m_values.emplace_back(kvFloats * sizeof(float));
        }
    }

    ~CudaLlamaRunner() override {
        cudaStreamSynchronize(m_stream);
        if (m_graph) cudaGraphExecDestroy(m_graph);
        m_blocks.clear();
        cublasDestroy(m_blas);
        cudaStreamDestroy(m_stream);
    }

    const LlamaConfig& config() const override { return m_config; }
    std::string device() const override { return "cuda:" + std::to_string(m_device); }
    int position() const override { return m_position; }
    int capacity() const override { return m_capacity; }
    void reset() override { m_position = 0; }

    // A device-to-device copy of 1 GiB, counting the bytes read and written, best of five.
    double readBandwidth() const override {
        const std::size_t bytes = std::size_t(1) << 29;
        DeviceBuffer from(bytes), to(bytes);
        cudaEvent_t start, stop;
        check(cudaEventCreate(&start), "timing");
        check(cudaEventCreate(&stop), "timing");
        float best = 1e30f;
        for (int i = 0; i < 6; ++i) {
            cudaEventRecord(start, m_stream);
            cudaMemcpyAsync(to.as<void>(), from.as<void>(), bytes, cudaMemcpyDeviceToDevice,
                            m_stream);
            cudaEventRecord(stop, m_stream);
            check(cudaEventSynchronize(stop), "timing a copy");
            float ms = 0.f;
            cudaEventElapsedTime(&ms, start, stop);
            if (i > 0) best = std::min(best, ms);
        }
        cudaEventDestroy(start);
        cudaEventDestroy(stop);
        return 2.0 * static_cast<double>(bytes) / (best * 1e-3);
    }

    void forward(std::span<const std::int32_t> tokens, int logitsFrom, int logitsTo,
                 std::vector<float>& logits) override {
        const int n = static_cast<int>(tokens.size());
        const LlamaConfig& c = m_config;
        if (logitsFrom < 0 || logitsTo > n || logitsFrom > logitsTo)
            throw Error("Llama forward: logits rows [" + std::to_string(logitsFrom) + ", " +
                        std::to_string(logitsTo) + ") outside the " + std::to_string(n) +
                        " tokens");
        if (n == 0) {
            logits.clear();
            return;
        }
        checkTokens(tokens, m_position + n);
        check(cudaSetDevice(m_device), "selecting the GPU");
        reserve(n);
        const int out = logitsTo - logitsFrom;
        check(cudaMemcpyAsync(m_ids.as<void>(), tokens.data(), n * sizeof(int),
                              cudaMemcpyHostToDevice, m_stream),
              "copying tokens");
        check(cudaMemcpyAsync(m_devicePosition.as<void>(), &m_position, sizeof(int),
                              cudaMemcpyHostToDevice, m_stream),
              "copying the position");
        if (n == 1 && out == 1) {
            // Generation: the step's few hundred launches replayed as one graph.
            if (m_options.cancel && m_options.cancel()) throw Cancelled();
            // The first step runs plainly, so that every scratch buffer has its size (no
            // allocation while capturing); later ones replay the graph.
            const bool current = m_graph && m_graphBuffers == bufferPointers();
            if (!current && m_stepBuffers == bufferPointers()) captureStep();
            if (m_graph && m_graphBuffers == bufferPointers()) {
                check(cudaGraphLaunch(m_graph, m_stream), "running a generation step");
            } else {
                enqueue(1, 0, 1, false);
                m_stepBuffers = bufferPointers();
            }
        } else {
            enqueue(n, logitsFrom, out, true);
        }
        logits.resize(static_cast<std::size_t>(out) * c.vocabSize);
        if (out > 0)
            check(cudaMemcpyAsync(logits.data(), m_logits.as<void>(), logits.size() * sizeof(float),
                                  cudaMemcpyDeviceToHost, m_stream),
                  "copying logits");
        check(cudaStreamSynchronize(m_stream), "the forward pass");
        m_position += n;
    }

    void prefillBatch(std::span<const std::int32_t> tokens, int sequences,
                      std::vector<float>& logits) override {
        const int length = batchLength(tokens.size(), sequences);
        if (!m_batchable) return LlamaRunner::prefillBatch(tokens, sequences, logits);
        checkTokens(tokens, length);
        check(cudaSetDevice(m_device), "selecting the GPU");
        m_position = 0;
        enqueueBatch(tokens, sequences, length);
        logits.resize(static_cast<std::size_t>(sequences) * m_config.vocabSize);
        check(cudaMemcpyAsync(logits.data(), m_logits.as<void>(), logits.size() * sizeof(float),
                              cudaMemcpyDeviceToHost, m_stream),
              "copying logits");
        check(cudaStreamSynchronize(m_stream), "the batched prefill");
    }

private:
    // Throws for ids outside the vocabulary or a context past the capacity (`end` tokens).
    void checkTokens(std::span<const std::int32_t> tokens, int end) const {
        if (end > m_capacity)
            throw Error("Llama forward: " + std::to_string(end) + " tokens exceed the context of " +
                        std::to_string(m_capacity) + "; use a shorter text or a larger context");
        for (const std::int32_t id : tokens)
            if (id < 0 || id >= m_config.vocabSize)
                throw Error("Llama forward: token id " + std::to_string(id) +
                            " is outside the vocabulary of " + std::to_string(m_config.vocabSize));
    }

    // The batched prefill runs where every block matrix has a 16-bit product of one kind (all
    // BF16: bf16 activations; no BF16 and no F32: f16) and the head size has a kernel.
    void chooseBatchActivations() {
        bool anyBf16 = false, allBf16 = true, all16 = true;
        for (const DeviceBlock& b : m_blocks)
            for (const DeviceMatrix* w : {&b.q, &b.k, &b.v, &b.o, &b.gate, &b.up, &b.down}) {
                anyBf16 = anyBf16 || w->type == DType::BF16;
                allBf16 = allBf16 && w->type == DType::BF16;
                all16 = all16 && batchesIn16Bits(w->type);
            }
        m_batchBf16 = allBf16;
        m_batchable = all16 && (allBf16 || !anyBf16) && flashSupports(m_config.headDim);
    }

    // `sequences` x `length` tokens from position 0, each sequence on its own; the logits of
    // each one's last token in m_logits. Activations between the products are 16-bit, the
    // residual stream float32.
    void enqueueBatch(std::span<const std::int32_t> tokens, int sequences, int length) {
        const LlamaConfig& c = m_config;
        const std::size_t rows = tokens.size(), h = c.hiddenSize,
                          qDim = static_cast<std::size_t>(c.heads) * c.headDim,
                          kvDim = static_cast<std::size_t>(c.kvHeads) * c.headDim,
                          f = c.intermediateSize, f4 = sizeof(float), f2 = 2;
        const int n = static_cast<int>(rows);
        const int padded = (length + kFlashKeys - 1) / kFlashKeys * kFlashKeys;
        const bool bf16 = m_batchBf16;
        m_ids.reserve(rows * sizeof(int));
        m_x.reserve(rows * h * f4);
        m_xn.reserve(static_cast<std::size_t>(sequences) * h * f4);
        m_attn.reserve(static_cast<std::size_t>(sequences) * h * f4);
        m_logits.reserve(static_cast<std::size_t>(sequences) * c.vocabSize * f4);
        BatchBuffers& w = m_batch;
        w.xn.reserve(rows * h * f2);
        w.q.reserve(rows * qDim * f2);
        w.k.reserve(rows * kvDim * f2);
        w.v.reserve(rows * kvDim * f2);
        w.vt.reserve(static_cast<std::size_t>(sequences) * padded * kvDim * f2);
        w.attn.reserve(rows * qDim * f2);
        w.gate.reserve(rows * f * f2);
        w.up.reserve(rows * f * f2);
        check(cudaMemcpyAsync(m_ids.as<void>(), tokens.data(), rows * sizeof(int),
                              cudaMemcpyHostToDevice, m_stream),
              "copying tokens");
        float* x = floats(m_x);
        deviceGatherRows(m_embedding, m_ids.as<int>(), n, x, m_stream);
        auto product = [&](const DeviceMatrix& m, const DeviceBuffer& in, void* out,
                           bool residual) {
            deviceLinear16(m, in.as<void>(), n, out, residual, residual ? 1.f : 0.f, m_scratch,
                           m_blas, m_stream);
        };
        for (int layer = 0; layer < c.layers; ++layer) {
            if (m_options.cancel && m_options.cancel()) {
                cudaStreamSynchronize(m_stream);
                throw Cancelled();
            }
            const DeviceBlock& b = m_blocks[static_cast<std::size_t>(layer)];
            rmsNorm16(x, floats(b.attnNorm), n, c.hiddenSize, c.rmsNormEps, w.xn.as<void>(), bf16,
                      m_stream);
            product(b.q, w.xn, w.q.as<void>(), false);
            product(b.k, w.xn, w.k.as<void>(), false);
            product(b.v, w.xn, w.v.as<void>(), false);
            rope16(w.q.as<void>(), n, length, static_cast<int>(qDim), c.heads, c.headDim,
                   floats(m_cos), floats(m_sin), c.rope, bf16, m_stream);
            rope16(w.k.as<void>(), n, length, static_cast<int>(kvDim), c.kvHeads, c.headDim,
                   floats(m_cos), floats(m_sin), c.rope, bf16, m_stream);
            transposeValues(w.v.as<void>(), sequences, length, padded, c.kvHeads, c.headDim,
                            w.vt.as<void>(), bf16, m_stream);
            flashAttention({w.q.as<void>(), w.k.as<void>(), w.vt.as<void>(), w.attn.as<void>(),
                            sequences, length, padded, c.heads, c.kvHeads, c.headDim},
                           bf16, m_stream);
            product(b.o, w.attn, x, true);  // the residual sum too
            rmsNorm16(x, floats(b.ffnNorm), n, c.hiddenSize, c.rmsNormEps, w.xn.as<void>(), bf16,
                      m_stream);
            product(b.gate, w.xn, w.gate.as<void>(), false);
            product(b.up, w.xn, w.up.as<void>(), false);
            swiglu16(w.gate.as<void>(), w.up.as<void>(), static_cast<long long>(rows * f), bf16,
                     m_stream);
            product(b.down, w.gate, x, true);
        }
        // Each sequence's last row, then the output as forward() computes it.
        check(cudaMemcpy2DAsync(floats(m_attn), h * f4, x + (length - 1) * h, length * h * f4,
                                h * f4, static_cast<std::size_t>(sequences),
                                cudaMemcpyDeviceToDevice, m_stream),
              "gathering the last rows");
        rmsNorm(floats(m_attn), floats(m_finalNorm), sequences, c.hiddenSize, c.rmsNormEps,
                floats(m_xn), m_stream);
        linear(*m_outputMatrix, floats(m_xn), sequences, floats(m_logits));
    }

    void reserve(int n) {
        const LlamaConfig& c = m_config;
        const std::size_t rows = static_cast<std::size_t>(n), h = c.hiddenSize,
                          qDim = static_cast<std::size_t>(c.heads) * c.headDim,
                          kvDim = static_cast<std::size_t>(c.kvHeads) * c.headDim,
                          f = c.intermediateSize, f4 = sizeof(float);
        m_ids.reserve(rows * sizeof(int));
        m_x.reserve(rows * h * f4);
        m_xn.reserve(rows * h * f4);
        m_q.reserve(rows * qDim * f4);
        m_newKeys.reserve(rows * kvDim * f4);
        m_newValues.reserve(rows * kvDim * f4);
        m_attn.reserve(rows * qDim * f4);
        m_gate.reserve(rows * f * f4);
        m_up.reserve(rows * f * f4);
        m_logits.reserve(rows * c.vocabSize * f4);
        m_scores.reserve(static_cast<std::size_t>(
                             std::max<long long>(1, attentionScratch(n, c.heads, m_capacity))) *
                         f4);
    }

    // Every buffer a captured step uses: a graph holds their addresses.
    std::vector<const void*> bufferPointers() const {
        return {m_ids.data(),
                m_x.data(),
                m_xn.data(),

                m_q.data(),
                m_newKeys.data(),
                m_newValues.data(),
                m_attn.data(),
                m_gate.data(),
                m_up.data(),
                m_logits.data(),
                m_scores.data(),
                m_scratch.xq.data(),
                m_scratch.xd.data(),
                m_scratch.xs.data(),
                m_scratch.widened.data(),
                m_scratch.xHalf.data()};
    }

    void captureStep() {
        if (m_graph) cudaGraphExecDestroy(m_graph);
        m_graph = nullptr;
        cudaGraph_t graph = nullptr;
        check(cudaStreamBeginCapture(m_stream, cudaStreamCaptureModeRelaxed),
              "capturing a generation step");
        try {
            enqueue(1, 0, 1, false);
        } catch (...) {
            cudaStreamEndCapture(m_stream, &graph);
            if (graph) cudaGraphDestroy(graph);
            throw;
        }
        check(cudaStreamEndCapture(m_stream, &graph), "capturing a generation step");
        const cudaError_t made = cudaGraphInstantiate(&m_graph, graph, 0);
        cudaGraphDestroy(graph);
        check(made, "preparing a generation step");
        m_graphBuffers = bufferPointers();
    }

    // The pass over `n` tokens at m_position (also on the device), leaving the logits of rows
    // [from, from + out) in m_logits. With `cancellable`, asks before every layer.
    void enqueue(int n, int from, int out, bool cancellable) {
        const LlamaConfig& c = m_config;
        const long long rows = n, h = c.hiddenSize,
                        qDim = static_cast<long long>(c.heads) * c.headDim,
                        kvDim = static_cast<long long>(c.kvHeads) * c.headDim,
                        f = c.intermediateSize;
        const int* position = m_devicePosition.as<int>();
        deviceGatherRows(m_embedding, m_ids.as<int>(), n, floats(m_x), m_stream);
        for (int layer = 0; layer < c.layers; ++layer) {
            if (cancellable && m_options.cancel && m_options.cancel()) {
                cudaStreamSynchronize(m_stream);
                throw Cancelled();
            }
            const std::size_t l = static_cast<std::size_t>(layer);
            const DeviceBlock& b = m_blocks[l];
            rmsNorm(floats(m_x), floats(b.attnNorm), n, c.hiddenSize, c.rmsNormEps, floats(m_xn),
                    m_stream);
            linear(b.q, floats(m_xn), n, floats(m_q));
            linear(b.k, floats(m_xn), n, floats(m_newKeys));
            linear(b.v, floats(m_xn), n, floats(m_newValues));
            rope(floats(m_q), n, static_cast<int>(qDim), c.heads, c.headDim, position,
                 floats(m_cos), floats(m_sin), c.rope, m_stream);
            rope(floats(m_newKeys), n, static_cast<int>(kvDim), c.kvHeads, c.headDim, position,
                 floats(m_cos), floats(m_sin), c.rope, m_stream);
            storeRows(floats(m_newKeys), n, static_cast<int>(kvDim), position, floats(m_keys[l]),
                      m_stream);
            storeRows(floats(m_newValues), n, static_cast<int>(kvDim), position,
                      floats(m_values[l]), m_stream);
            attention({floats(m_q), floats(m_keys[l]), floats(m_values[l]), floats(m_attn),
                       floats(m_scores), position, n, m_position, m_capacity, c.heads, c.kvHeads,
                       c.headDim},
                      m_stream);
            linear(b.o, floats(m_attn), n, floats(m_x), true);  // the residual sum too

            rmsNorm(floats(m_x), floats(b.ffnNorm), n, c.hiddenSize, c.rmsNormEps, floats(m_xn),
                    m_stream);
            linear(b.gate, floats(m_xn), n, floats(m_gate));
            linear(b.up, floats(m_xn), n, floats(m_up));
            swiglu(floats(m_gate), floats(m_up), rows * f, m_stream);
            linear(b.down, floats(m_gate), n, floats(m_x), true);
        }
        if (out == 0) return;
        rmsNorm(floats(m_x) + from * h, floats(m_finalNorm), out, c.hiddenSize, c.rmsNormEps,
                floats(m_xn), m_stream);
        linear(*m_outputMatrix, floats(m_xn), out, floats(m_logits));
    }

    void linear(const DeviceMatrix& w, const float* x, int n, float* y, bool accumulate = false) {
        deviceLinear(w, x, n, y, accumulate, m_scratch, m_blas, m_stream);
    }

    LlamaConfig m_config;
    ForwardOptions m_options;
    int m_device = 0;
    int m_capacity = 0;
    int m_position = 0;
    cudaStream_t m_stream = nullptr;
    cublasHandle_t m_blas = nullptr;
    DeviceMatrix m_embedding, m_output;
    const DeviceMatrix* m_outputMatrix = nullptr;
    std::vector<DeviceBlock> m_blocks;
    DeviceBuffer m_finalNorm, m_cos, m_sin;
    std::vector<DeviceBuffer> m_keys, m_values;
    DeviceBuffer m_ids, m_devicePosition, m_x, m_xn, m_q, m_newKeys, m_newValues, m_attn, m_gate,
        m_up, m_scores, m_logits;
    MatmulScratch m_scratch;
    struct BatchBuffers {  // 16-bit activations of prefillBatch
        DeviceBuffer xn, q, k, v, vt, attn, gate, up;
    } m_batch;
    bool m_batchable = false, m_batchBf16 = false;
    cudaGraphExec_t m_graph = nullptr;  // one generation step, for the buffers below
    std::vector<const void*> m_graphBuffers;
    std::vector<const void*> m_stepBuffers;  // after the last plain generation step
};

}  // namespace
}  // namespace cudallm

std::unique_ptr<LlamaRunner> makeCudaLlamaRunner(int device, const LlamaConfig& config,
                                                 const LlamaWeights& weights,
                                                 const ForwardOptions& options) {
    return std::make_unique<cudallm::CudaLlamaRunner>(device, config, weights, options);
}

}  // namespace cwb
