// The compressed-model engine (see compressed_engine.h). It runs a plan compiled without
// BatchNormalization folding, so that int8 weights keep the compression's exact codes; a
// BatchNormalization after an int8 or sparse layer becomes part of that layer's epilogue.
// Which kernels each layer runs is chosen in kernel_autotune.cpp.
#include "core/infer/compressed_engine.h"

#include <cstring>
#include <map>
#include <sstream>

#include "core/backend/backend.h"
#include "core/error.h"
#include "core/infer/cpu/gemm.h"
#include "core/infer/kernel_autotune.h"
#include "core/util/parallel.h"

namespace cwb {
namespace {

using namespace compressed;

// The model compiled twice: without BatchNormalization folding (int8 and sparse layers keep
// the compression's exact weights and take the BatchNormalization into their epilogue) and
// with it (float32 layers run exactly as in the float32 engine).
struct Plans {
    Plan unfolded, folded;
};

class CompressedEngine final : public InferenceEngine {
public:
    // Steps point into `plans` (ops, biases, affine parameters): the engine keeps them alive.
    CompressedEngine(std::shared_ptr<const Plans> plans, std::vector<Step> steps, int threads,
                     int8::Isa isa, std::string name)
        : m_planHolder(std::move(plans)),
          m_plan(m_planHolder->unfolded),
          m_steps(std::move(steps)),
          m_threads(threads),
          m_isa(isa),
          m_name(std::move(name)) {
        std::vector<StageSizes>
            stages;  // a step with a BatchNormalization epilogue keeps its op's sizes
        for (const Step& step : m_steps)
            stages.push_back({step.op->inputSize, step.op->outputSize});
        m_staging = Staging::of(stages, m_plan.inputSize);
        m_scratch.resize(static_cast<std::size_t>(m_threads));
        for (auto& s : m_scratch) reserve(s, m_plan, m_staging);
    }

    std::string name() const override { return m_name; }
    int inputSize() const override { return static_cast<int>(m_plan.inputSize); }
    int outputSize() const override { return static_cast<int>(m_plan.outputSize); }

    void forward(const float* input, int batch, float* output) override {
        if (batch <= 0) return;
        if (m_steps.empty()) {
            std::memcpy(output, input,
                        sizeof(float) * static_cast<std::size_t>(batch * m_plan.inputSize));
            return;
        }
        cpu::setBlasThreads(1);  // our threads call BLAS concurrently
        parallelFor(batch, m_threads, [&](long long begin, long long end, int worker) {
            Scratch& s = m_scratch[static_cast<std::size_t>(worker)];
            m_staging.run(m_steps.size(), m_plan.inputSize, m_plan.outputSize,
                          input + begin * m_plan.inputSize, static_cast<int>(end - begin),
                          output + begin * m_plan.outputSize, s.features.data(),
                          [&](std::size_t first, std::size_t last, const float* in, int images,
                              float* out) { runSteps(first, last, in, images, out, s); });
        });
    }

private:
    // Runs steps [first, last) on n images (see runChain).
    void runSteps(std::size_t first, std::size_t last, const float* input, int n, float* output,
                  Scratch& s) const {
        runChain(first, last, input, output, s.ping.data(), s.pong.data(),
                 [&](std::size_t i, const float* in, float* out) {
                     runStep(m_steps[i], m_isa, in, n, out, s);
                 });
    }

    std::shared_ptr<const Plans> m_planHolder;
    const Plan& m_plan;
    std::vector<Step> m_steps;
    int m_threads;
    int8::Isa m_isa;
    std::string m_name;
    Staging m_staging;
    std::vector<Scratch> m_scratch;
};

std::unique_ptr<InferenceEngine> floatEngine(const Model& model,
                                             const CompressedEngineOptions& options,
                                             KernelReport* report) {
    auto engine = makeCpuEngine(model, options.engine);
    if (report) {
        report->engine = engine->name();
        report->layers.clear();
        for (const auto& layer : model.layers)
            if (layer.hasKernel())
                report->layers.push_back(
                    {layer.name, layer.className, "float32", "float32 kernels were asked for",
                     sparsityOf(layer.kernel.toFloatVector()), 0, -1, -1, -1, false});
    }
    return engine;
}

}  // namespace

std::unique_ptr<InferenceEngine> makeCompressedEngine(const Model& model,
                                                      const CompressedEngineOptions& options,
                                                      KernelReport* report) {
    return backendOr(options.backend).makeEngine(model, options, report);
}

std::unique_ptr<InferenceEngine> makeCpuCompressedEngine(const Model& model,
                                                         const CompressedEngineOptions& options,
                                                         KernelReport* report) {
    if (options.kernel == KernelChoice::Float) return floatEngine(model, options, report);
    PlanOptions planOptions;
    planOptions.logits = options.engine.logits;
    planOptions.foldBatchNorm = false;
    auto plans = std::make_shared<Plans>();
    plans->unfolded = compilePlan(model, planOptions);
    planOptions.foldBatchNorm = true;
    plans->folded = compilePlan(model, planOptions);
    const Plan& plan = plans->unfolded;
    // The folded plan's Dense/Conv2D ops in order, where a BatchNormalization was folded in.
    std::vector<const PlanOp*> foldedKernels;  // null where no BatchNormalization was folded
    for (std::size_t j = 0; j < plans->folded.ops.size(); ++j) {
        const PlanOp& op = plans->folded.ops[j];
        if (op.kind != OpKind::Conv2D && op.kind != OpKind::Dense) continue;
        const bool affineAfter = j + 1 < plans->folded.ops.size() &&
                                 plans->folded.ops[j + 1].kind == OpKind::ChannelAffine;
        foldedKernels.push_back(affineAfter ? nullptr : &op);
    }
    const int8::Isa isa = int8::bestIsa();
    const int threads = resolveThreads(options.engine.threads);
    // Each layer is timed on as many images as the engine will give it in one call.
    const Staging staging = Staging::of(stageSizes(plan), plan.inputSize);

    std::vector<int> kernelLayers;
    for (std::size_t i = 0; i < model.layers.size(); ++i)
        if (model.layers[i].hasKernel()) kernelLayers.push_back(static_cast<int>(i));

    std::vector<Step> steps;
    std::vector<LayerKernel> rows;
    std::size_t kernelIndex = 0;
    std::map<Path, int> counts;
    for (std::size_t i = 0; i < plan.ops.size(); ++i) {
        const PlanOp& op = plan.ops[i];
        Step step;
        step.op = &op;
        if (op.kind != OpKind::Conv2D && op.kind != OpKind::Dense) {
            steps.push_back(std::move(step));
            continue;
        }
        // Kernel ops come in the order of the model's Dense/Conv2D layers.
        const int li = kernelIndex < kernelLayers.size() ? kernelLayers[kernelIndex++] : -1;
        LayerKernel row;
        row.layer = li >= 0 ? model.layers[li].name : op.layerName;
        row.className = li >= 0 ? model.layers[li].className : "?";
        LayerContext context;
        context.plan = &plan;
        context.affine = i + 1 < plan.ops.size() && plan.ops[i + 1].kind == OpKind::ChannelAffine &&
                                 op.activation.isLinear()
                             ? &plan.ops[i + 1]
                             : nullptr;
        if (options.grids && li >= 0 && static_cast<std::size_t>(li) < options.grids->size())
            context.grid = &(*options.grids)[static_cast<std::size_t>(li)];
        context.images = i < staging.split ? staging.chunk : staging.group;
        context.isa = isa;
        Step chosen = chooseLayerKernel(step, context, options, row);
        ++counts[chosen.path];
        rows.push_back(row);

        if (chosen.path == Path::Float) {
            // With a BatchNormalization after it, the float32 engine's folded op (its
            // weights scaled, the normalization and activation gone into it).
            const std::size_t k = kernelIndex - 1;
            if (context.affine && foldedKernels.size() == kernelLayers.size() && foldedKernels[k] &&
                foldedKernels[k]->weights.size() == op.weights.size()) {
                chosen.op = foldedKernels[k];
                ++i;
            }
            steps.push_back(std::move(chosen));
            continue;
        }
        steps.push_back(std::move(chosen));
        if (context.affine) ++i;  // folded into the epilogue
    }
    if (kernelIndex != kernelLayers.size())
        throw Error(model.sourcePath +
                    ": the compiled plan does not match the model's Dense/Conv2D layers");

    std::ostringstream name;
    name << "cpu compressed:";
    bool first = true;
    for (Path p : {Path::Int8, Path::Sparse, Path::Float})
        if (counts[p]) {
            name << (first ? " " : ", ") << pathName(p, isa) << " x" << counts[p];
            first = false;
        }
    auto engine = std::make_unique<CompressedEngine>(std::move(plans), std::move(steps), threads,
                                                     isa, name.str());
    if (report) {
        report->engine = engine->name();
        report->layers = std::move(rows);
    }
    return engine;
}

}  // namespace cwb
