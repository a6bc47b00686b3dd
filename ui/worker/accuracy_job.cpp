// Chunked accuracy measurement (see accuracy_job.h).
#include "ui/worker/accuracy_job.h"

#include "core/infer/compressed_engine.h"
#include "core/infer/engine.h"
#include "core/infer/evaluate.h"

namespace cwb::ui {

QStringList kernelChoices() {
    QStringList out;
    for (KernelChoice k :
         {KernelChoice::Auto, KernelChoice::Float, KernelChoice::Int8, KernelChoice::Sparse})
        out << QString::fromStdString(kernelChoiceName(k));
    return out;
}

AccuracyResult measureAccuracy(const Model& model, const EngineChoice& choice,
                               const Session& session, const Progress& progress,
                               const std::function<void(const AccuracyResult&)>& partial,
                               int limit) {
    AccuracyResult result;
    KernelChoice kernel = KernelChoice::Float;
    parseKernelChoice(choice.kernels.toStdString(), kernel);
    std::unique_ptr<InferenceEngine> engine;
    if (kernel == KernelChoice::Float || !choice.grids) {
        engine = makeCpuEngine(model);
    } else {
        CompressedEngineOptions options;
        options.kernel = kernel;
        options.grids = choice.grids;
        KernelReport report;
        engine = makeCompressedEngine(model, options, &report);
        for (const LayerKernel& k : report.layers)
            result.kernelPaths.insert(QString::fromStdString(k.layer),
                                      QString::fromStdString(k.path));
    }
    result.engine = QString::fromStdString(engine->name());
    long long total = 0;
    for (const auto& chunk : session.testChunks) total += chunk->size();
    if (limit > 0) total = std::min<long long>(total, limit);
    for (const auto& chunk : session.testChunks) {
        if (limit > 0 && result.samples >= limit) break;
        EvalOptions options;
        options.batchSize = kEvalBatch;
        const long long before = result.samples;
        options.progress.callback = [&progress, before, total](long long done, long long) {
            return !progress.callback || progress.callback(before + done, total);
        };
        const EvalResult r = evaluate(*engine, *chunk, options);
        result.samples += r.samples;
        result.correct += r.correct;
        result.seconds += r.seconds;
        if (partial) partial(result);
    }
    return result;
}

EvaluatedPoint makePoint(const CompressionSettings& settings, const ModelStats& stats,
                         const AccuracyResult& accuracy) {
    EvaluatedPoint p;
    p.settings = settings;
    p.samples = accuracy.samples;
    p.correct = accuracy.correct;
    p.accuracy = accuracy.accuracy();
    p.latencyMs = accuracy.latencyMs();
    p.engine = accuracy.engine;
    p.sizeBytes = double(stats.encodedBytes);
    p.sparsity = stats.weights.sparsity;
    p.effectiveBits = stats.weights.effectiveBits;
    return p;
}

}  // namespace cwb::ui
