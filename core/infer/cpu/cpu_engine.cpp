// The float32 CPU engine: runs a compiled Plan with the kernels in core/infer/cpu.
//
// BatchSlices runs a plan in two stages per thread. The head (convolutions and pooling, with
// large activations) runs a few images at a time so that they stay in L2; its outputs
// collect in a feature buffer, and the tail (Dense layers on small vectors) then runs on a
// group of many images, because an SGEMM with a handful of rows wastes most of its time.
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
#include "core/util/parallel.h"

namespace cwb {
namespace {

// Activations of one head chunk (two buffers of it) should stay within a core's L2.
constexpr long long kChunkBytes = 512 * 1024;
constexpr int kMinChunk = 4, kMaxChunk = 128;
// Ops whose inputs and outputs are all at most this many floats per sample form the tail.
constexpr long long kTailMaxFloats = 4096;
constexpr int kTailGroup = 128;

long long maxActivation(const std::vector<PlanOp>& ops, std::size_t begin, std::size_t end) {
    long long n = 1;
    for (std::size_t i = begin; i < end; ++i) n = std::max({n, ops[i].inputSize, ops[i].outputSize});
    return n;
}

class CpuEngine final : public InferenceEngine {
public:
    CpuEngine(Plan plan, const CpuEngineOptions& options)
        : m_plan(std::move(plan)), m_strategy(options.strategy),
          m_threads(resolveThreads(options.engine.threads)), m_convAlgorithm(options.convAlgorithm) {
        if (!cpu::convAlgorithmAvailable(m_convAlgorithm))
            throw Error("the direct convolution kernel needs a CPU with AVX-512; use the patch (im2col) algorithm");
        const auto& ops = m_plan.ops;
        m_split = ops.size();
        while (m_split > 0 && ops[m_split - 1].inputSize <= kTailMaxFloats && ops[m_split - 1].outputSize <= kTailMaxFloats)
            --m_split;
        const long long headMax = std::max(maxActivation(ops, 0, m_split), m_plan.inputSize);
        m_chunk = options.chunkImages > 0
                      ? options.chunkImages
                      : static_cast<int>(std::clamp<long long>(kChunkBytes / (headMax * 4), kMinChunk, kMaxChunk));
        m_group = m_split == ops.size() ? m_chunk : std::max(kTailGroup, m_chunk);
        // Prepack convolution weights once for the direct kernel.
        m_direct.resize(ops.size());
        for (std::size_t i = 0; i < ops.size(); ++i)
            if (ops[i].kind == OpKind::Conv2D && usesDirectConv())
                m_direct[i] = cpu::packDirectConv(ops[i].window, ops[i].outFeatures, ops[i].weights.data(),
                                                  ops[i].bias.empty() ? nullptr : ops[i].bias.data());
        m_scratch.resize(m_strategy == CpuStrategy::BatchSlices ? m_threads : 1);
        if (m_strategy == CpuStrategy::BatchSlices)
            for (auto& s : m_scratch) reserve(s, m_chunk, m_group);  // once, not per batch
    }

    std::string name() const override { return "cpu float32"; }
    int inputSize() const override { return static_cast<int>(m_plan.inputSize); }
    int outputSize() const override { return static_cast<int>(m_plan.outputSize); }

    void forward(const float* input, int batch, float* output) override {
        if (batch <= 0) return;
        if (m_plan.ops.empty()) {
            std::memcpy(output, input, sizeof(float) * static_cast<std::size_t>(batch * m_plan.inputSize));
            return;
        }
        if (m_strategy == CpuStrategy::WholeBatchBlas) {
            cpu::setBlasThreads(m_threads);
            reserve(m_scratch[0], batch, batch);
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
        int chunk = 0, group = 0;
    };

    // Grows a thread's buffers for head chunks of `chunk` and tail groups of `group` images;
    // a no-op once they are large enough.
    void reserve(Scratch& s, int chunk, int group) const {
        if (chunk <= s.chunk && group <= s.group) return;
        s.chunk = std::max(s.chunk, chunk);
        s.group = std::max(s.group, group);
        const auto& ops = m_plan.ops;
        const long long headMax = std::max(maxActivation(ops, 0, m_split), m_plan.inputSize);
        const std::size_t activations = static_cast<std::size_t>(
            std::max(headMax * s.chunk, maxActivation(ops, m_split, ops.size()) * s.group));
        std::size_t patches = 0;
        for (const PlanOp& op : ops)
            if (op.kind == OpKind::Conv2D)
                patches = std::max(patches, cpu::conv2dScratchFloats(op.window, convSettings(op, s.chunk)));
        s.ping.resize(activations);
        s.pong.resize(activations);
        if (m_split > 0 && m_split < ops.size())
            s.features.resize(static_cast<std::size_t>(ops[m_split].inputSize) * s.group);
        s.patches.resize(patches);
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

    // One thread's contiguous slice: groups of m_group images, the head a chunk at a time.
    void runSlice(const float* input, int n, float* output, Scratch& s) const {
        const std::size_t count = m_plan.ops.size();
        const long long featureSize = m_split < count ? m_plan.ops[m_split].inputSize : 0;
        for (int g0 = 0; g0 < n; g0 += m_group) {
            const int groupSize = std::min(m_group, n - g0);
            const float* tailInput = input + g0 * m_plan.inputSize;
            if (m_split > 0) {
                const bool headOnly = m_split == count;
                for (int c0 = g0; c0 < g0 + groupSize; c0 += m_chunk) {
                    const int chunk = std::min(m_chunk, g0 + groupSize - c0);
                    float* out = headOnly ? output + c0 * m_plan.outputSize : s.features.data() + (c0 - g0) * featureSize;
                    runOps(0, m_split, input + c0 * m_plan.inputSize, chunk, out, s);
                }
                tailInput = s.features.data();
            }
            if (m_split < count) runOps(m_split, count, tailInput, groupSize, output + g0 * m_plan.outputSize, s);
        }
    }

    // Runs ops [begin, end) on n images, alternating between the two scratch buffers; the
    // last op writes to `output`.
    void runOps(std::size_t begin, std::size_t end, const float* input, int n, float* output, Scratch& s) const {
        const float* in = input;
        for (std::size_t i = begin; i < end; ++i) {
            float* out = i + 1 == end ? output : (in == s.ping.data() ? s.pong.data() : s.ping.data());
            runOp(i, in, n, out, s);
            in = out;
        }
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
            cpu::conv2d(op.window, op.outFeatures, op.weights.data(), bias, op.activation, in, n, out,
                        s.patches.data(), convSettings(op, n));
        }
    }

    Plan m_plan;
    CpuStrategy m_strategy;
    int m_threads;
    cpu::ConvAlgorithm m_convAlgorithm;
    std::size_t m_split = 0;  // ops [0, m_split) are the head, the rest the tail
    int m_chunk = 1;          // head images per pass
    int m_group = 1;          // tail images per pass
    std::vector<cpu::DirectConvWeights> m_direct;  // per op; empty unless a Conv2D runs direct
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
