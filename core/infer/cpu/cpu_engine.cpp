// The float32 CPU engine: runs a compiled Plan with the kernels in core/infer/cpu.
#include "core/infer/cpu/cpu_engine.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include "core/error.h"
#include "core/infer/cpu/activations.h"
#include "core/infer/cpu/batch_norm.h"
#include "core/infer/cpu/conv2d.h"
#include "core/infer/cpu/dense.h"
#include "core/infer/cpu/gemm.h"
#include "core/infer/cpu/pooling.h"
#include "core/infer/plan.h"
#include "core/util/parallel.h"

namespace cwb {
namespace {

// Activations of one chunk (two buffers of it) should stay within a core's L2.
constexpr long long kChunkBytes = 512 * 1024;
constexpr int kMinChunk = 4, kMaxChunk = 128;

class CpuEngine final : public InferenceEngine {
public:
    CpuEngine(Plan plan, const CpuEngineOptions& options)
        : m_plan(std::move(plan)), m_strategy(options.strategy),
          m_threads(resolveThreads(options.engine.threads)), m_convAlgorithm(options.convAlgorithm) {
        if (!cpu::convAlgorithmAvailable(m_convAlgorithm))
            throw Error("the direct convolution kernel needs a CPU with AVX-512; use the patch (im2col) algorithm");
        const long long perImage = std::max<long long>(m_plan.maxActivationSize(), 1);
        m_chunk = options.chunkImages > 0
                      ? options.chunkImages
                      : static_cast<int>(std::clamp<long long>(kChunkBytes / (perImage * 4), kMinChunk, kMaxChunk));
        m_scratch.resize(m_strategy == CpuStrategy::BatchSlices ? m_threads : 1);
        if (m_strategy == CpuStrategy::BatchSlices)
            for (auto& s : m_scratch) reserve(s, m_chunk);  // once, not per batch
    }

    std::string name() const override { return "cpu float32"; }
    int inputSize() const override { return static_cast<int>(m_plan.inputSize); }
    int outputSize() const override { return static_cast<int>(m_plan.outputSize); }

    void forward(const float* input, int batch, float* output) override {
        if (batch <= 0) return;
        if (m_strategy == CpuStrategy::WholeBatchBlas) {
            cpu::setBlasThreads(m_threads);
            reserve(m_scratch[0], batch);
            runChunk(input, batch, output, m_scratch[0]);
            return;
        }
        cpu::setBlasThreads(1);  // our threads call BLAS concurrently
        parallelFor(batch, m_threads, [&](long long begin, long long end, int worker) {
            Scratch& scratch = m_scratch[worker];
            for (long long i = begin; i < end; i += m_chunk) {
                const int n = static_cast<int>(std::min<long long>(m_chunk, end - i));
                runChunk(input + i * m_plan.inputSize, n, output + i * m_plan.outputSize, scratch);
            }
        });
    }

private:
    struct Scratch {
        std::vector<float> ping, pong, patches;
        int images = 0;
    };

    // Grows a thread's buffers to hold `images` images; a no-op once they are large enough.
    void reserve(Scratch& s, int images) const {
        if (images <= s.images) return;
        const std::size_t activations = static_cast<std::size_t>(m_plan.maxActivationSize()) * images;
        std::size_t patches = 0;
        for (const PlanOp& op : m_plan.ops)
            if (op.kind == OpKind::Conv2D)
                patches = std::max(patches, cpu::conv2dScratchFloats(op.window, convSettings(op, images)));
        s.ping.resize(activations);
        s.pong.resize(activations);
        s.patches.resize(patches);
        s.images = images;
    }

    // The plain strategy unrolls the whole batch at once for one multithreaded SGEMM.
    cpu::ConvSettings convSettings(const PlanOp& op, int images) const {
        if (m_strategy == CpuStrategy::BatchSlices) return {m_convAlgorithm, 0};
        return {cpu::ConvAlgorithm::Im2colGemm, images * op.window.outputPixels()};
    }

    void runChunk(const float* input, int n, float* output, Scratch& s) const {
        if (m_plan.ops.empty()) {
            std::memcpy(output, input, sizeof(float) * static_cast<std::size_t>(n * m_plan.inputSize));
            return;
        }
        const float* in = input;
        for (std::size_t i = 0; i < m_plan.ops.size(); ++i) {
            float* out = i + 1 == m_plan.ops.size() ? output : (in == s.ping.data() ? s.pong.data() : s.ping.data());
            runOp(m_plan.ops[i], in, n, out, s);
            in = out;
        }
    }

    void runOp(const PlanOp& op, const float* in, int n, float* out, Scratch& s) const {
        const float* bias = op.bias.empty() ? nullptr : op.bias.data();
        switch (op.kind) {
            case OpKind::Conv2D:
                cpu::conv2d(op.window, op.outFeatures, op.weights.data(), bias, op.activation, in, n, out,
                            s.patches.data(), convSettings(op, n));
                return;
            case OpKind::Dense:
                cpu::dense(op.inFeatures, op.outFeatures, op.weights.data(), bias, op.activation, in,
                           n * (op.inputSize / op.inFeatures), out);
                return;
            case OpKind::MaxPool2D: cpu::maxPool2d(op.window, in, n, out); return;
            case OpKind::AvgPool2D: cpu::avgPool2d(op.window, in, n, out); return;
            case OpKind::ChannelAffine:
                cpu::channelAffine(op.inFeatures, op.scale.data(), bias, op.activation, in, n * op.inputSize, out);
                return;
            case OpKind::Activation:
                std::memcpy(out, in, sizeof(float) * static_cast<std::size_t>(n * op.inputSize));
                cpu::applyActivation(op.activation, out, n * op.inputSize);
                return;
        }
    }

    Plan m_plan;
    CpuStrategy m_strategy;
    int m_threads;
    int m_chunk = 1;
    cpu::ConvAlgorithm m_convAlgorithm;
    std::vector<Scratch> m_scratch;
};

}  // namespace

std::unique_ptr<InferenceEngine> makeCpuEngine(const Model& model, const CpuEngineOptions& options) {
    PlanOptions planOptions;
    planOptions.logits = options.engine.logits;
    planOptions.foldBatchNorm = options.foldBatchNorm;
    return std::make_unique<CpuEngine>(compilePlan(model, planOptions), options);
}

std::unique_ptr<InferenceEngine> makeCpuEngine(const Model& model, const EngineOptions& options) {
    CpuEngineOptions cpuOptions;
    cpuOptions.engine = options;
    return makeCpuEngine(model, cpuOptions);
}

}  // namespace cwb
