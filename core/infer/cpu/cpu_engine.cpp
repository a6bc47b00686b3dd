// The float32 CPU engine: runs a compiled Plan with the kernels in core/infer/cpu, staged
// into head and tail per thread (core/infer/staging.h).
#include "core/infer/cpu/cpu_engine.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include "core/error.h"
#include "core/infer/cpu/conv2d.h"
#include "core/infer/cpu/conv2d_direct.h"
#include "core/infer/cpu/dense.h"
#include "core/infer/cpu/gemm.h"
#include "core/infer/cpu/unweighted_ops.h"
#include "core/infer/plan.h"
#include "core/infer/staging.h"
#include "core/util/parallel.h"

namespace cwb {
namespace {

class CpuEngine final : public InferenceEngine {
public:
    CpuEngine(Plan plan, const CpuEngineOptions& options)
        : m_plan(std::move(plan)),
          m_strategy(options.strategy),
          m_threads(resolveThreads(options.engine.threads)),
          m_convAlgorithm(options.convAlgorithm) {
        if (!cpu::convAlgorithmAvailable(m_convAlgorithm))
            throw Error(
                "the direct convolution kernel needs a CPU with AVX-512; use the patch (im2col) "
                "algorithm");
        m_stages = stageSizes(m_plan);
        m_staging = Staging::of(m_stages, m_plan.inputSize, options.chunkImages);
        const auto& ops = m_plan.ops;
        // Prepack convolution weights once for the direct kernel.
        m_direct.resize(ops.size());
        for (std::size_t i = 0; i < ops.size(); ++i)
            if (ops[i].kind == OpKind::Conv2D && usesDirectConv())
                m_direct[i] =
                    cpu::packDirectConv(ops[i].window, ops[i].outFeatures, ops[i].weights.data(),
                                        ops[i].bias.empty() ? nullptr : ops[i].bias.data());
        m_scratch.resize(m_strategy == CpuStrategy::BatchSlices ? m_threads : 1);
        if (m_strategy == CpuStrategy::BatchSlices)
            for (auto& s : m_scratch) reserve(s, m_staging);  // once, not per batch
    }

    std::string name() const override { return "cpu float32"; }
    int inputSize() const override { return static_cast<int>(m_plan.inputSize); }
    int outputSize() const override { return static_cast<int>(m_plan.outputSize); }

    void forward(const float* input, int batch, float* output) override {
        if (batch <= 0) return;
        if (m_plan.ops.empty()) {
            std::memcpy(output, input,
                        sizeof(float) * static_cast<std::size_t>(batch * m_plan.inputSize));
            return;
        }
        if (m_strategy == CpuStrategy::WholeBatchBlas) {
            cpu::setBlasThreads(m_threads);
            reserve(m_scratch[0], Staging::wholeBatch(m_stages, m_plan.inputSize, batch));
            runOps(0, m_plan.ops.size(), input, batch, output, m_scratch[0]);
            return;
        }
        cpu::setBlasThreads(1);  // our threads call BLAS concurrently
        parallelFor(batch, m_threads, [&](long long begin, long long end, int worker) {
            runSlice(input + begin * m_plan.inputSize, static_cast<int>(end - begin),
                     output + begin * m_plan.outputSize, m_scratch[worker]);
        });
    }

private:
    struct Scratch {
        std::vector<float> ping, pong, features, patches;
    };

    // Grows a thread's buffers for this staging; a no-op once they are large enough.
    void reserve(Scratch& s, const Staging& staging) const {
        const std::size_t activations = staging.activationBufferFloats();
        if (activations > s.ping.size()) {
            s.ping.resize(activations);
            s.pong.resize(activations);
        }
        if (staging.featureBufferFloats() > s.features.size())
            s.features.resize(staging.featureBufferFloats());
        for (const PlanOp& op : m_plan.ops)
            if (op.kind == OpKind::Conv2D)
                s.patches.resize(
                    std::max(s.patches.size(),
                             cpu::conv2dScratchFloats(op.window, convSettings(op, staging.chunk))));
    }

    bool usesDirectConv() const {
        return m_strategy == CpuStrategy::BatchSlices &&
               (m_convAlgorithm == cpu::ConvAlgorithm::Direct ||
                (m_convAlgorithm == cpu::ConvAlgorithm::Auto && cpu::directConvAvailable()));
    }

    // The plain strategy unrolls the whole batch at once for one multithreaded SGEMM.
    cpu::ConvSettings convSettings(const PlanOp& op, int images) const {
        if (m_strategy == CpuStrategy::BatchSlices) return {m_convAlgorithm, 0};
        return {cpu::ConvAlgorithm::Im2colGemm, images * op.window.outputPixels()};
    }

    // One thread's contiguous slice of n images.
    void runSlice(const float* input, int n, float* output, Scratch& s) const {
        m_staging.run(m_plan.ops.size(), m_plan.inputSize, m_plan.outputSize, input, n, output,
                      s.features.data(),
                      [&](std::size_t begin, std::size_t end, const float* in, int images,
                          float* out) { runOps(begin, end, in, images, out, s); });
    }

    // Runs ops [begin, end) on n images (see runChain).
    void runOps(std::size_t begin, std::size_t end, const float* input, int n, float* output,
                Scratch& s) const {
        runChain(begin, end, input, output, s.ping.data(), s.pong.data(),
                 [&](std::size_t i, const float* in, float* out) { runOp(i, in, n, out, s); });
    }

    void runOp(std::size_t index, const float* in, int n, float* out, Scratch& s) const {
        const PlanOp& op = m_plan.ops[index];
        if (cpu::runUnweightedOp(op, in, n, out)) return;
        const float* bias = op.bias.empty() ? nullptr : op.bias.data();
        if (op.kind == OpKind::Dense) {
            cpu::dense(op.inFeatures, op.outFeatures, op.weights.data(), bias, op.activation, in,
                       n * (op.inputSize / op.inFeatures), out);
        } else if (m_direct[index].filters > 0) {  // Conv2D
            cpu::conv2dDirect(m_direct[index], op.activation, in, n, out, s.patches.data());
        } else {
            cpu::conv2d(op.window, op.outFeatures, op.weights.data(), bias, op.activation, in, n,
                        out, s.patches.data(), convSettings(op, n));
        }
    }

    Plan m_plan;
    CpuStrategy m_strategy;
    int m_threads;
    cpu::ConvAlgorithm m_convAlgorithm;
    std::vector<StageSizes> m_stages;  // one per plan op
    Staging m_staging;
    std::vector<cpu::DirectConvWeights> m_direct;  // per op; empty unless a Conv2D runs direct
    std::vector<Scratch> m_scratch;
};

}  // namespace

std::unique_ptr<InferenceEngine> makeCpuEngine(const Model& model,
                                               const CpuEngineOptions& options) {
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
