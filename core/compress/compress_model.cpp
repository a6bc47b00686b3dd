// compressModel: resolve the plan per tensor, build the masks and quantizers that need a
// whole tensor, run the fused pass, and turn its sums into statistics (see compress_model.h).
#include "core/compress/compress_model.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <limits>
#include <sstream>

#include "core/backend/backend.h"
#include "core/compress/buffer_pool.h"
#include "core/compress/encoded_size.h"
#include "core/compress/fused_pass.h"
#include "core/compress/masks.h"
#include "core/compress/profile_counts.h"
#include "core/compress/quant_types.h"
#include "core/compress/quantize.h"
#include "core/compress/unit_quantizers.h"
#include "core/compress/weight_profile.h"
#include "core/error.h"
#include "core/stats/row_comparison.h"
#include "core/util/parallel.h"

namespace cwb {
namespace {

struct Task {
    int layer = -1;
    std::string role;
    Tensor* target = nullptr;  // in the result's model
    Tensor source;             // float32 original
    MatrixView view;
    bool isKernel = false;
    std::optional<LayerSettings> settings;  // nullopt: reported, not compressed
    float min = 0.f, max = 0.f, maxAbs = 0.f;
    const TensorProfile* profile = nullptr;

    KeepMask mask;
    KeepRule keep;
    QuantKind quant = QuantKind::None;
    float alpha = 0.f;
    std::unique_ptr<UnitQuantizers> units;
    std::int64_t codeBase = 0, codeSpan = 0;
    float errorBound = 0.f, valueBound = 0.f;
    Tensor output;

    bool compressed() const { return settings.has_value(); }
};

std::string describeSettings(const LayerSettings& s) {
    std::ostringstream out;
    const auto& q = s.quant;
    if (q.bits > 0) {
        out << q.bits << "-bit " << (q.scheme == QuantScheme::Symmetric ? "sym" : "asym") << " per "
            << granularityName(q.granularity, q.groupSize);
        if (q.clip == ClipMethod::Percentile) out << ", clip p" << q.clipPercentile;
        if (q.clip == ClipMethod::Mse) out << ", clip mse";
    } else if (q.alpha > 0.f) {
        out << "alpha " << q.alpha;
    } else {
        out << "no quantization";
    }
    const auto& p = s.prune;
    switch (p.method) {
        case PruneMethod::None:
            break;
        case PruneMethod::Threshold:
            if (p.rho > 0.f) out << ", rho " << p.rho;
            break;
        case PruneMethod::TextbookThreshold:
            out << ", textbook W >= " << p.rho << " (prunes negatives)";
            break;
        case PruneMethod::TargetSparsity:
            out << ", sparsity " << p.sparsity
                << (p.scope == SparsityScope::Global ? " global" : " per layer");
            break;
        case PruneMethod::StructuredL1:
            out << ", structured L1 " << p.sparsity;
            break;
        case PruneMethod::StructuredL2:
            out << ", structured L2 " << p.sparsity;
            break;
        case PruneMethod::NM:
            out << ", " << p.n << ":" << p.m;
            break;
    }
    return out.str();
}

// The settings of BatchNormalization parameters: the plan's defaults or an override by name.
std::optional<LayerSettings> batchNormSettings(const CompressionPlan& plan, const Model& model,
                                               int li) {
    const Layer& layer = model.layers[li];
    if (!plan.includeBatchNorm || layer.kind != LayerKind::BatchNormalization) return std::nullopt;
    if (!plan.onlyLayer.empty() && plan.onlyLayer != layer.name) return std::nullopt;
    const LayerOverride* found = nullptr;
    for (const auto& o : plan.overrides)
        if (o.layer == layer.name) found = &o;
    if (found && found->keepFloat) return std::nullopt;
    return found && found->settings ? *found->settings : plan.defaults;
}

void addTask(std::vector<Task>& tasks, Model& copy, const Model& model, int li,
             Tensor Layer::*member, const std::string& role, bool isKernel,
             std::optional<LayerSettings> settings) {
    const Tensor& t = model.layers[li].*member;
    if (t.empty()) return;
    Task task;
    task.layer = li;
    task.role = role;
    task.target = &(copy.layers[li].*member);
    task.source = t.dtype() == DType::F32 ? t : t.toFloat32();
    task.isKernel = isKernel;
    const long long n = task.source.elements();
    const long long cols = isKernel && !t.shape().empty() ? t.shape().back() : n;
    task.view = {task.source.floats().data(), cols > 0 ? n / cols : 0, cols};
    if (settings && !isKernel) {
        // Parameters other than kernels: quantization only, one step per tensor.
        settings->prune = PruneSettings{PruneMethod::None};
        settings->quant.granularity = Granularity::Tensor;
        settings->quant.clip = ClipMethod::None;
    }
    task.settings = settings;
    tasks.push_back(std::move(task));
}

void buildMasks(std::vector<Task>& tasks) {
    std::vector<Task*> global;
    for (Task& t : tasks) {
        if (!t.compressed()) continue;
        const PruneSettings& p = t.settings->prune;
        switch (p.method) {
            case PruneMethod::None:
                break;
            case PruneMethod::Threshold:
                if (p.rho > 0.f) t.keep = {KeepRule::Kind::Threshold, p.rho, nullptr};
                t.errorBound = std::min(p.rho, t.maxAbs);
                break;
            case PruneMethod::TextbookThreshold:
                t.keep = {KeepRule::Kind::Textbook, p.rho, nullptr};
                t.errorBound = std::max(std::min(p.rho, t.maxAbs), -t.min);
                break;
            case PruneMethod::TargetSparsity:
                if (p.scope == SparsityScope::Global) {
                    global.push_back(&t);
                } else {
                    t.mask = std::move(magnitudeMasks({t.view}, p.sparsity)[0]);
                }
                break;
            case PruneMethod::StructuredL1:
            case PruneMethod::StructuredL2:
                t.mask = structuredMask(t.view, p.sparsity, p.method == PruneMethod::StructuredL2);
                break;
            case PruneMethod::NM:
                t.mask = nmMask(t.view, p.n, p.m);
                break;
        }
    }
    if (!global.empty()) {
        std::vector<MatrixView> views;
        for (Task* t : global) views.push_back(t->view);
        auto masks = magnitudeMasks(views, global.front()->settings->prune.sparsity);
        for (std::size_t k = 0; k < global.size(); ++k) global[k]->mask = std::move(masks[k]);
    }
    for (Task& t : tasks) {
        if (t.mask.empty()) continue;
        t.keep = {KeepRule::Kind::Explicit, 0.f, t.mask.data()};
        t.errorBound = t.maxAbs;
    }
}

void buildQuantizers(std::vector<Task>& tasks, int threads) {
    for (Task& t : tasks) {
        t.valueBound = t.maxAbs;
        if (!t.compressed() || !t.settings->quant.enabled()) continue;
        const QuantSettings& q = t.settings->quant;
        if (q.bits > 0) {
            t.quant = QuantKind::Affine;
            t.units =
                std::make_unique<UnitQuantizers>(chooseUnitQuantizers(t.view, t.keep, q, threads));
            t.errorBound = std::max(t.errorBound, t.units->errorBound());
            t.valueBound = std::max(t.valueBound, t.units->valueBound());
            std::int32_t lo = 0, hi = 0;
            for (const auto& u : t.units->units) {
                lo = std::min(lo, u.qmin - u.zeroPoint);
                hi = std::max(hi, u.qmax - u.zeroPoint);
            }
            t.codeBase = lo;
            t.codeSpan = hi - lo + 1;
        } else {
            t.quant = QuantKind::Uniform;
            t.alpha = q.alpha;
            const float top = quantizeUniform(t.max, q.alpha),
                        bottom = quantizeUniform(t.min, q.alpha);
            t.errorBound = std::max(t.errorBound, 0.5f * q.alpha);
            t.valueBound = std::max({t.valueBound, std::fabs(top), std::fabs(bottom)});
            // The same float32 arithmetic as the pass: codes are monotonic in W, so the
            // codes of min and max bound all others.
            const double lo = std::min(0.f, roundHalfAway(t.min / q.alpha));
            const double hi = std::max(0.f, roundHalfAway(t.max / q.alpha));
            t.codeBase = static_cast<std::int64_t>(std::max(lo, -1e15));
            t.codeSpan = hi - lo + 1 <= static_cast<double>(kMaxCountedCodes)
                             ? static_cast<std::int64_t>(hi - lo + 1)
                             : 0;
        }
    }
}

// A symmetric range [-m, m] that contains the given bound, never empty.
HistogramSpec resolveSpec(const HistogramSpec& wanted, double bound, double fallback) {
    if (!wanted.automatic()) return wanted;
    double m = bound > 0.0 && std::isfinite(bound) ? bound : fallback;
    m *= 1.0 + 1e-6;  // float rounding at the extremes must not fall outside
    return {wanted.bins, -m, m};
}

std::string codeText(const Task& t, int codeBits) {
    std::ostringstream out;
    if (t.quant == QuantKind::None) return "float32 values";
    if (t.quant == QuantKind::Uniform) {
        out << codeBits << "-bit codes + float32 step and int32 code offset";
        return out.str();
    }
    const auto units = t.units->unitCount();
    if (t.units->type->granularity == Granularity::Group)
        out << t.units->type->name << " blocks of " << t.units->type->blockSize << ": ";
    out << codeBits << "-bit codes + " << units << " float32 step" << (units == 1 ? "" : "s");
    if (t.settings->quant.scheme == QuantScheme::Asymmetric)
        out << " + " << units << " zero points";
    return out.str();
}

TensorStats makeStats(Task& t, const FusedResult& r, const StatsOptions& options,
                      KernelGrid& grid) {
    TensorStats s;
    s.role = t.role;
    s.elements = t.view.size();
    s.zeros = r.zeros;
    s.originalZeros = r.originalZeros;
    s.sparsity = s.elements ? static_cast<double>(s.zeros) / static_cast<double>(s.elements) : 0.0;
    s.sumSquares = r.sumSquares;
    s.sumSquaredError = r.sumSquaredError;
    s.mse = s.elements ? r.sumSquaredError / static_cast<double>(s.elements) : 0.0;
    s.sqnrDb = r.sumSquaredError > 0.0 ? 10.0 * std::log10(r.sumSquares / r.sumSquaredError)
                                       : std::numeric_limits<double>::infinity();
    s.maxAbsError = r.maxAbsError;
    s.minValue = t.min;
    s.maxValue = t.max;
    s.original = r.original;
    s.compressed = r.compressed;
    s.error = r.error;

    // Levels: the codes seen when quantized; distinct floats otherwise.
    std::int32_t codeMin = 0, codeMax = 0;
    s.levels = -1;
    if (t.codeSpan > 0) {
        s.levels = 0;
        bool first = true;
        for (std::int64_t k = 0; k < t.codeSpan; ++k) {
            if (!r.codeCounts[static_cast<std::size_t>(k)]) continue;
            ++s.levels;
            const auto code = static_cast<std::int32_t>(t.codeBase + k);
            codeMin = first ? code : std::min(codeMin, code);
            codeMax = first ? code : std::max(codeMax, code);
            first = false;
        }
    } else if (t.quant == QuantKind::Uniform) {
        codeMin = static_cast<std::int32_t>(
            std::clamp<double>(roundHalfAway(t.min / t.alpha), INT32_MIN, 0));
        codeMax = static_cast<std::int32_t>(
            std::clamp<double>(roundHalfAway(t.max / t.alpha), 0, INT32_MAX));
    }
    if (s.levels < 0 && options.exactLevels) {
        const TensorProfile* p = t.profile;
        const KeepRule rule = t.compressed() ? t.keep : KeepRule{};
        if (p && t.quant == QuantKind::None && rule.kind != KeepRule::Kind::Explicit) {
            s.levels = keptDistinct(*p, rule, s.zeros > 0);
        } else {
            const Tensor& values = t.output.empty() ? t.source : t.output;
            s.levels = countDistinct(values.floats().data(), s.elements);
        }
    }
    s.effectiveBits = s.levels >= 0 ? effectiveBits(s.levels) : -1;

    if (!t.compressed()) {
        s.size.bytes = s.size.codeBytes = s.size.float32Bytes = s.elements * 4;
        s.size.codeBits = 32;
        s.size.ratio = 1.0;
        s.size.description = "float32 (not compressed)";
        return s;
    }
    EncodingInput enc;
    enc.elements = s.elements;
    enc.nonzeros = s.elements - s.zeros;
    enc.outputs = t.isKernel ? t.view.cols : 1;
    enc.reduction = t.isKernel ? t.view.rows : s.elements;
    switch (t.quant) {
        case QuantKind::None:
            enc.codeBits = 32;
            break;
        case QuantKind::Uniform:
            enc.codeBits =
                std::max(1, effectiveBits(static_cast<long long>(codeMax) - codeMin + 1));
            enc.scaleBytes = 8;
            break;
        case QuantKind::Affine: {
            const auto units = t.units->unitCount();
            enc.codeBits = t.settings->quant.bits;
            enc.scaleBytes = units * 4;
            if (t.settings->quant.scheme == QuantScheme::Asymmetric)
                enc.scaleBytes += (units * enc.codeBits + 7) / 8;
            break;
        }
    }
    enc.codeText = codeText(t, enc.codeBits);
    s.size = encodeSize(enc);

    if (t.isKernel && t.quant != QuantKind::None) {
        grid.quantized = true;
        grid.codeMin = codeMin;
        grid.codeMax = codeMax;
        grid.codeBits = enc.codeBits;
        if (t.quant == QuantKind::Uniform) {
            grid.granularity = Granularity::Tensor;
            grid.steps = {t.alpha};
        } else {
            grid.granularity = t.units->granularity;
            grid.groupSize = t.units->groupSize;
            grid.steps = t.units->steps;
            if (t.settings->quant.scheme == QuantScheme::Asymmetric)
                for (const auto& u : t.units->units) grid.zeroPoints.push_back(u.zeroPoint);
        }
    }
    return s;
}

void accumulate(TensorStats& total, const TensorStats& s, bool first) {
    addTensorStats(total, s, first);
    total.levels = std::max(total.levels, s.levels);
    total.effectiveBits = std::max(total.effectiveBits, s.effectiveBits);
}

}  // namespace

CompressionResult compressModel(const Model& model, const CompressionPlan& plan,
                                const CompressOptions& options, const Progress& progress) {
    const auto start = std::chrono::steady_clock::now();
    validatePlan(plan, model);
    const StatsOptions& stats = options.stats;
    const int threads = resolveThreads(options.threads);

    CompressionResult result;
    result.model = model;
    result.grids.resize(model.layers.size());

    std::vector<Task> tasks;
    for (int li = 0; li < static_cast<int>(model.layers.size()); ++li) {
        const Layer& layer = model.layers[li];
        if (layer.hasKernel()) {
            const auto settings = settingsForLayer(plan, model, li);
            addTask(tasks, result.model, model, li, &Layer::kernel, "kernel", true, settings);
            if (plan.includeBiases && settings && layer.useBias)
                addTask(tasks, result.model, model, li, &Layer::bias, "bias", false, settings);
        } else if (const auto settings = batchNormSettings(plan, model, li)) {
            addTask(tasks, result.model, model, li, &Layer::gamma, "gamma", false, settings);
            addTask(tasks, result.model, model, li, &Layer::beta, "beta", false, settings);
            addTask(tasks, result.model, model, li, &Layer::movingMean, "moving_mean", false,
                    settings);
            addTask(tasks, result.model, model, li, &Layer::movingVariance, "moving_variance",
                    false, settings);
        }
    }

    for (Task& t : tasks) {
        t.profile = options.profile ? options.profile->find(t.source.bytes(), t.source.elements())
                                    : nullptr;
        long long nonFinite = 0;
        if (t.profile) {
            t.min = t.profile->min;
            t.max = t.profile->max;
            nonFinite = t.profile->nonFinite;
        } else {
            floatRange(t.view.data, t.view.size(), threads, t.min, t.max, nonFinite);
        }
        if (nonFinite > 0)
            throw Error(model.sourcePath + ": layer '" + model.layers[t.layer].name + "' " +
                        t.role + " holds " + std::to_string(nonFinite) +
                        " NaN or infinite weights; the model is damaged, re-export it");
        t.maxAbs = std::max(std::fabs(t.min), std::fabs(t.max));
    }
    progress.step(0, 1);
    buildMasks(tasks);
    buildQuantizers(tasks, threads);
    progress.step(0, 1);

    // Shared automatic edges: every layer and the model total overlay bin for bin.
    double weightBound = 0.0, errorBound = 0.0;
    for (const Task& t : tasks) {
        weightBound = std::max<double>(weightBound, t.valueBound);
        if (t.compressed()) errorBound = std::max<double>(errorBound, t.errorBound);
    }
    FusedOptions fused;
    fused.histograms = stats.histograms;
    fused.threads = threads;
    fused.weights = resolveSpec(stats.weights, weightBound, 1.0);
    fused.error = stats.errorSharesWeightEdges
                      ? fused.weights
                      : resolveSpec(stats.error, errorBound, 1e-6 * std::max(weightBound, 1.0));

    std::vector<FusedJob> jobs;
    for (Task& t : tasks) {
        FusedJob job;
        job.in = t.view;
        if (t.compressed()) {
            // Settings that change nothing (both sliders at 0) leave the tensor shared.
            const bool changes = t.quant != QuantKind::None || t.keep.kind != KeepRule::Kind::All ||
                                 t.source.dtype() != t.target->dtype();
            if (changes) {
                t.output = Tensor(t.source.shape(), DType::F32,
                                  pooledStorage(t.source.elements() * sizeof(float)));
                job.out = t.output.mutableFloats().data();
            }
            job.keep = t.keep;
            job.quant = t.quant;
            job.alpha = t.alpha;
            job.units = t.units.get();
            job.codeBase = t.codeBase;
            job.codeSpan = t.codeSpan;
        }
        jobs.push_back(job);
    }
    // Value-only rules with a profile: the pass writes values and sums, and the counts
    // come from the profile's sorted values (the same integers, without per-weight counting).
    for (std::size_t k = 0; k < tasks.size(); ++k)
        jobs[k].countInPass = !profileCanCount(jobs[k], tasks[k].profile, fused);
    auto sums = backendOr(options.backend).runFusedPass(jobs, fused, progress);
    // Tensors are independent: one per thread, each result in its own slot.
    parallelFor(static_cast<long long>(tasks.size()), threads,
                [&](long long begin, long long end, int) {
                    for (long long k = begin; k < end; ++k)
                        if (!jobs[k].countInPass)
                            countFromProfile(jobs[k], *tasks[k].profile, fused, sums[k]);
                });

    bool firstTotal = true;
    for (std::size_t k = 0; k < tasks.size(); ++k) {
        Task& t = tasks[k];
        if (t.compressed() && !t.output.empty()) *t.target = t.output;
        KernelGrid scratchGrid;
        KernelGrid& grid =
            t.isKernel ? result.grids[static_cast<std::size_t>(t.layer)] : scratchGrid;
        TensorStats s = makeStats(t, sums[k], stats, grid);
        accumulate(result.total.weights, s, firstTotal);
        firstTotal = false;

        const Layer& layer = model.layers[static_cast<std::size_t>(t.layer)];
        if (result.layers.empty() || result.layers.back().layerIndex != t.layer) {
            LayerStats ls;
            ls.layerIndex = t.layer;
            ls.name = layer.name;
            ls.className = layer.className;
            ls.compressed = t.compressed();
            if (t.settings) {
                ls.settings = *t.settings;
                ls.settingsText = describeSettings(*t.settings);
            } else {
                ls.settingsText = "float32 (kept)";
            }
            result.layers.push_back(std::move(ls));
        }
        LayerStats& ls = result.layers.back();
        if (t.isKernel)
            ls.kernel = std::move(s);
        else
            ls.others.push_back(std::move(s));
    }

    TensorStats& w = result.total.weights;
    w.role = "all";
    w.sparsity = w.elements ? static_cast<double>(w.zeros) / static_cast<double>(w.elements) : 0.0;
    w.mse = w.elements ? w.sumSquaredError / static_cast<double>(w.elements) : 0.0;
    w.sqnrDb = w.sumSquaredError > 0.0 ? 10.0 * std::log10(w.sumSquares / w.sumSquaredError)
                                       : std::numeric_limits<double>::infinity();
    w.size.ratio = w.size.bytes > 0 ? static_cast<double>(w.size.float32Bytes) /
                                          static_cast<double>(w.size.bytes)
                                    : 1.0;
    w.size.description = "sum of the reported tensors";
    result.total.parameters = model.parameterCount();
    result.total.float32Bytes = result.total.parameters * 4;
    result.total.encodedBytes = result.total.float32Bytes - w.size.float32Bytes + w.size.bytes;
    result.total.ratio = result.total.encodedBytes > 0
                             ? static_cast<double>(result.total.float32Bytes) /
                                   static_cast<double>(result.total.encodedBytes)
                             : 1.0;
    result.seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return result;
}

}  // namespace cwb
