// Per-layer kernel choice and its report (see kernel_autotune.h).
#include "core/infer/kernel_autotune.h"

#include <algorithm>
#include <chrono>
#include <random>
#include <sstream>

#include "core/infer/cpu/gemm.h"

namespace cwb {

namespace {

std::string msText(double ms) {
    std::ostringstream out;
    out.setf(std::ios::fixed);
    out.precision(ms < 10 ? 2 : 1);
    out << ms << " ms";
    return out.str();
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

namespace compressed {
namespace {

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

// Why float32 runs a layer that had other candidates.
std::string floatReason(bool useInt8, const std::string& int8Why, bool sparseOk,
                        const LayerKernel& row) {
    std::ostringstream why;
    why << "float32";
    if (!useInt8) why << " (int8 not possible: " << int8Why << ")";
    if (useInt8 && row.int8Ms >= 0) why << "; int8 measured slower: no speed-up";
    if (sparseOk)
        why << "; sparse at " << percent(row.sparsity) << " zeros measured slower: no speed-up";
    else if (row.sparsity > 0)
        why << "; " << percent(row.sparsity) << " zeros, below the sparse threshold";
    return why.str();
}

}  // namespace

double sparsityOf(const std::vector<float>& w) {
    if (w.empty()) return 0.0;
    const auto zeros = std::count(w.begin(), w.end(), 0.f);
    return static_cast<double>(zeros) / static_cast<double>(w.size());
}

Step chooseLayerKernel(const Step& floatStep, const LayerContext& context,
                       const CompressedEngineOptions& options, LayerKernel& row) {
    const PlanOp& op = *floatStep.op;
    const int8::Isa isa = context.isa;
    const int k = op.kind == OpKind::Dense ? op.inFeatures
                                           : static_cast<int>(op.weights.size() / op.outFeatures);
    const int n = op.outFeatures;
    row.sparsity = sparsityOf(op.weights);

    // Candidates.
    bool int8Ok = false;
    std::string int8Why;
    Step int8Step = floatStep, sparseStep = floatStep;
    if (context.grid) {
        int8Ok =
            int8::weightsFromGrid(op.weights.data(), k, n, *context.grid, int8Step.int8, int8Why);
    } else {
        int8Why = "no compression grid known";
    }
    if (!int8Ok && options.kernel == KernelChoice::Int8) {
        int8Step.int8 = int8::requantizePerChannel(op.weights.data(), k, n);
        int8Ok = true;
        int8Why =
            "re-quantized to int8 per channel (" + int8Why + "): an approximation of these weights";
    } else if (int8Ok) {
        int8Why = "codes span " + std::to_string(int8Step.int8.codeBits) + " bits";
    }
    if (int8Ok && op.kind == OpKind::Conv2D) int8::prepareConvolution(int8Step.int8, op.window);
    const bool sparseOk =
        options.kernel == KernelChoice::Sparse ||
        (options.kernel == KernelChoice::Auto && row.sparsity >= options.sparseCandidate);
    if (sparseOk) sparseStep.csr = sparse::csrFromKernel(op.weights.data(), k, n);

    // An unfolded BatchNormalization right after becomes the epilogue of int8 / sparse.
    Epilogue epilogue;
    epilogue.bias = op.bias.empty() ? nullptr : op.bias.data();
    epilogue.activation = op.activation;
    if (context.affine) {
        epilogue.scale = context.affine->scale.data();
        epilogue.shift = context.affine->bias.data();
        epilogue.activation = context.affine->activation;
    }
    int8Step.epilogue = sparseStep.epilogue = epilogue;
    int8Step.path = Path::Int8;
    sparseStep.path = Path::Sparse;

    const bool useInt8 = int8Ok && options.kernel != KernelChoice::Sparse;
    if (options.measure) {
        const Plan& plan = *context.plan;
        row.floatMs = timeStep(floatStep, isa, plan, context.images);
        // Each candidate alone, without the BatchNormalization the float32 step lacks too.
        const Epilogue alone{epilogue.bias, nullptr, nullptr, op.activation};
        if (useInt8) {
            Step timed = int8Step;
            timed.epilogue = alone;
            row.int8Ms = timeStep(timed, isa, plan, context.images);
        }
        if (sparseOk) {
            Step timed = sparseStep;
            timed.epilogue = alone;
            row.sparseMs = timeStep(timed, isa, plan, context.images);
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
        case KernelChoice::Float:
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
            if (chosen == Path::Int8)
                row.reason = int8Why + ", measured fastest";
            else if (chosen == Path::Sparse)
                row.reason = percent(row.sparsity) + " zeros, sparse measured fastest";
            else
                row.reason = floatReason(useInt8, int8Why, sparseOk, row);
            break;
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
    return chosen == Path::Int8 ? int8Step : chosen == Path::Sparse ? sparseStep : floatStep;
}

}  // namespace compressed
}  // namespace cwb
