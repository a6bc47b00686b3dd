// The compressed-model engine (see compressed_engine.h). It runs a plan compiled without
// BatchNormalization folding, so that int8 weights keep the compression's exact codes; a
// BatchNormalization after an int8 or sparse layer becomes part of that layer's epilogue.
#include "core/infer/compressed_engine.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <map>
#include <random>
#include <sstream>

#include "core/error.h"
#include "core/infer/cpu/conv2d.h"
#include "core/infer/cpu/dense.h"
#include "core/infer/cpu/gemm.h"
#include "core/infer/cpu/unweighted_ops.h"
#include "core/infer/int8/int8_layer.h"
#include "core/infer/plan.h"
#include "core/infer/sparse/sparse_layer.h"
#include "core/infer/staging.h"
#include "core/util/parallel.h"

namespace cwb {
namespace {

enum class Path { Float, Int8, Sparse };

// One op of the plan as this engine runs it.
struct Step {
    const PlanOp* op = nullptr;
    Path path = Path::Float;
    Epilogue epilogue;  // Int8 / Sparse
    int8::Int8Weights int8;
    sparse::CsrMatrix csr;
};

struct Scratch {
    std::vector<float> ping, pong, features, patches;
    int8::Int8Scratch int8;
    sparse::SparseScratch sparse;
};

long long denseRows(const PlanOp& op, int images) {
    return images * (op.inputSize / op.inFeatures);
}

cpu::ConvSettings convSettings() { return {cpu::ConvAlgorithm::Auto, 0}; }

void runStep(const Step& step, int8::Isa isa, const float* in, int n, float* out, Scratch& s) {
    const PlanOp& op = *step.op;
    if (cpu::runUnweightedOp(op, in, n, out)) return;
    const float* bias = op.bias.empty() ? nullptr : op.bias.data();
    if (op.kind == OpKind::Conv2D) {
        if (step.path == Path::Int8)
            int8::conv2dInt8(isa, op.window, step.int8, step.epilogue, in, n, out, s.int8);
        else if (step.path == Path::Sparse)
            sparse::conv2dSparse(op.window, step.csr, step.epilogue, in, n, out, s.sparse);
        else
            cpu::conv2d(op.window, op.outFeatures, op.weights.data(), bias, op.activation, in, n,
                        out, s.patches.data(), convSettings());
    } else {  // Dense
        if (step.path == Path::Int8)
            int8::denseInt8(isa, step.int8, step.epilogue, in, denseRows(op, n), out, s.int8);
        else if (step.path == Path::Sparse)
            sparse::denseSparse(step.csr, step.epilogue, in, denseRows(op, n), out, s.sparse);
        else
            cpu::dense(op.inFeatures, op.outFeatures, op.weights.data(), bias, op.activation, in,
                       denseRows(op, n), out);
    }
}

void reserve(Scratch& s, const Plan& plan, const Staging& staging) {
    s.ping.resize(std::max(s.ping.size(), staging.activationBufferFloats()));
    s.pong.resize(s.ping.size());
    s.features.resize(std::max(s.features.size(), staging.featureBufferFloats()));
    for (const PlanOp& op : plan.ops)
        if (op.kind == OpKind::Conv2D)
            s.patches.resize(
                std::max(s.patches.size(), cpu::conv2dScratchFloats(op.window, convSettings())));
}

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
    // Runs steps [first, last) on n images, alternating between the two scratch buffers; the
    // last step writes to `output`.
    void runSteps(std::size_t first, std::size_t last, const float* input, int n, float* output,
                  Scratch& s) const {
        const float* in = input;
        for (std::size_t i = first; i < last; ++i) {
            float* out =
                i + 1 == last ? output : (in == s.ping.data() ? s.pong.data() : s.ping.data());
            runStep(m_steps[i], m_isa, in, n, out, s);
            in = out;
        }
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

double sparsityOf(const std::vector<float>& w) {
    if (w.empty()) return 0.0;
    const auto zeros = std::count(w.begin(), w.end(), 0.f);
    return static_cast<double>(zeros) / static_cast<double>(w.size());
}

// Milliseconds per 1000 images of one step alone, on random input, best of a few runs.
double timeStep(const Step& step, int8::Isa isa, const Plan& plan, int images) {
    Scratch s;
    reserve(s, plan, Staging::wholeBatch(stageSizes(plan), plan.inputSize, images));
    std::vector<float> in(static_cast<std::size_t>(step.op->inputSize) * images);
    std::mt19937 rng(1);
    std::uniform_real_distribution<float> dist(0.f, 1.f);
    for (auto& v : in) v = dist(rng);
    std::vector<float> out(static_cast<std::size_t>(step.op->outputSize) * images);
    cpu::setBlasThreads(1);
    runStep(step, isa, in.data(), images, out.data(), s);  // warm-up
    double best = 1e300;
    using Clock = std::chrono::steady_clock;
    for (int r = 0; r < 5; ++r) {
        const auto t0 = Clock::now();
        runStep(step, isa, in.data(), images, out.data(), s);
        best = std::min(best, std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
    }
    return best * 1000.0 / images;
}

std::string percent(double fraction) {
    std::ostringstream out;
    out.precision(3);
    out << fraction * 100.0 << "%";
    return out.str();
}

std::string msText(double ms) {
    std::ostringstream out;
    out.setf(std::ios::fixed);
    out.precision(ms < 10 ? 2 : 1);
    out << ms << " ms";
    return out.str();
}

std::string pathName(Path p, int8::Isa isa) {
    switch (p) {
        case Path::Float:
            return "float32";
        case Path::Int8:
            return "int8 (" + int8::isaName(isa) + ")";
        case Path::Sparse:
            return "sparse (csr)";
    }
    return "?";
}

}  // namespace

std::string KernelReport::text() const {
    std::ostringstream out;
    out << "engine: " << engine << "\n";
    for (const auto& l : layers) {
        out << "  " << l.layer << " (" << l.className << "): " << l.path << " - " << l.reason;
        std::vector<std::string> times;
        if (l.floatMs >= 0) times.push_back("float32 " + msText(l.floatMs));
        if (l.int8Ms >= 0) times.push_back("int8 " + msText(l.int8Ms));
        if (l.sparseMs >= 0) times.push_back("sparse " + msText(l.sparseMs));
        if (!times.empty()) {
            out << " [per 1000 images:";
            for (const auto& t : times) out << " " << t;
            out << "]";
        }
        out << "\n";
    }
    return out.str();
}

std::unique_ptr<InferenceEngine> makeCompressedEngine(const Model& model,
                                                      const CompressedEngineOptions& options,
                                                      KernelReport* report) {
    if (options.kernel == KernelChoice::Float) {
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
        const int k = op.kind == OpKind::Dense
                          ? op.inFeatures
                          : static_cast<int>(op.weights.size() / op.outFeatures);
        const int n = op.outFeatures;
        row.sparsity = sparsityOf(op.weights);

        // Candidates.
        bool int8Ok = false;
        std::string int8Why;
        Step int8Step = step, sparseStep = step;
        const KernelGrid* grid =
            options.grids && li >= 0 && static_cast<std::size_t>(li) < options.grids->size()
                ? &(*options.grids)[static_cast<std::size_t>(li)]
                : nullptr;
        if (grid) {
            int8Ok = int8::weightsFromGrid(op.weights.data(), k, n, *grid, int8Step.int8, int8Why);
        } else {
            int8Why = "no compression grid known";
        }
        if (!int8Ok && options.kernel == KernelChoice::Int8) {
            int8Step.int8 = int8::requantizePerChannel(op.weights.data(), k, n);
            int8Ok = true;
            int8Why = "re-quantized to int8 per channel (" + int8Why +
                      "): an approximation of these weights";
        } else if (int8Ok) {
            int8Why = "codes span " + std::to_string(int8Step.int8.codeBits) + " bits";
        }
        if (int8Ok && op.kind == OpKind::Conv2D) int8::prepareConvolution(int8Step.int8, op.window);
        const bool sparseOk =
            options.kernel == KernelChoice::Sparse ||
            (options.kernel == KernelChoice::Auto && row.sparsity >= options.sparseCandidate);
        if (sparseOk) sparseStep.csr = sparse::csrFromKernel(op.weights.data(), k, n);

        // An unfolded BatchNormalization right after becomes the epilogue of int8 / sparse.
        const PlanOp* affine = i + 1 < plan.ops.size() &&
                                       plan.ops[i + 1].kind == OpKind::ChannelAffine &&
                                       op.activation.isLinear()
                                   ? &plan.ops[i + 1]
                                   : nullptr;
        Epilogue epilogue;
        epilogue.bias = op.bias.empty() ? nullptr : op.bias.data();
        epilogue.activation = op.activation;
        if (affine) {
            epilogue.scale = affine->scale.data();
            epilogue.shift = affine->bias.data();
            epilogue.activation = affine->activation;
        }
        int8Step.epilogue = sparseStep.epilogue = epilogue;
        int8Step.path = Path::Int8;
        sparseStep.path = Path::Sparse;

        const bool useInt8 = int8Ok && options.kernel != KernelChoice::Sparse;
        const int chunk = i < staging.split ? staging.chunk : staging.group;
        if (options.measure) {
            row.floatMs = timeStep(step, isa, plan, chunk);
            if (useInt8) {
                Step timed = int8Step;
                timed.epilogue =
                    Epilogue{epilogue.bias, nullptr, nullptr, op.activation};  // alone, no affine
                row.int8Ms = timeStep(timed, isa, plan, chunk);
            }
            if (sparseOk) {
                Step timed = sparseStep;
                timed.epilogue = Epilogue{epilogue.bias, nullptr, nullptr, op.activation};
                row.sparseMs = timeStep(timed, isa, plan, chunk);
            }
        }

        Path chosen = Path::Float;
        switch (options.kernel) {
            case KernelChoice::Int8:
                chosen = Path::Int8;
                row.reason = int8Why;
                break;
            case KernelChoice::Sparse:
                chosen = Path::Sparse;
                row.reason = "sparse kernels were asked for, " + percent(row.sparsity) + " zeros";
                break;
            case KernelChoice::Auto:
            case KernelChoice::Float: {
                if (options.measure) {
                    double best = row.floatMs;
                    if (useInt8 && row.int8Ms < best) {
                        chosen = Path::Int8;
                        best = row.int8Ms;
                    }
                    if (sparseOk && row.sparseMs < best) chosen = Path::Sparse;
                } else {
                    chosen = useInt8 ? Path::Int8 : Path::Float;
                }
                std::ostringstream why;
                if (chosen == Path::Int8)
                    why << int8Why << ", measured fastest";
                else if (chosen == Path::Sparse)
                    why << percent(row.sparsity) << " zeros, sparse measured fastest";
                else {
                    why << "float32";
                    if (!useInt8) why << " (int8 not possible: " << int8Why << ")";
                    if (useInt8 && row.int8Ms >= 0) why << "; int8 measured slower: no speed-up";
                    if (sparseOk)
                        why << "; sparse at " << percent(row.sparsity)
                            << " zeros measured slower: no speed-up";
                    else if (row.sparsity > 0)
                        why << "; " << percent(row.sparsity)
                            << " zeros, below the sparse threshold";
                }
                row.reason = why.str();
                break;
            }
        }
        const double chosenMs = chosen == Path::Int8     ? row.int8Ms
                                : chosen == Path::Sparse ? row.sparseMs
                                                         : row.floatMs;
        row.speedup =
            chosen != Path::Float && chosenMs >= 0 && row.floatMs >= 0 && chosenMs < row.floatMs;
        if (chosen != Path::Float && options.measure && !row.speedup)
            row.reason += "; measured no faster than float32: no speed-up";
        row.path = pathName(chosen, isa);
        if (chosen == Path::Int8) row.codeBits = int8Step.int8.codeBits;
        ++counts[chosen];
        rows.push_back(row);

        if (chosen == Path::Float) {
            // With a BatchNormalization after it, the float32 engine's folded op (its
            // weights scaled, the normalization and activation gone into it).
            const std::size_t k = kernelIndex - 1;
            if (affine && foldedKernels.size() == kernelLayers.size() && foldedKernels[k] &&
                foldedKernels[k]->weights.size() == op.weights.size()) {
                step.op = foldedKernels[k];
                ++i;
            }
            steps.push_back(std::move(step));
            continue;
        }
        steps.push_back(std::move(chosen == Path::Int8 ? int8Step : sparseStep));
        if (affine) ++i;  // folded into the epilogue
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
