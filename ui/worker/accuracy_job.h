// Measuring a (compressed) model on the test set in chunks, so that a partial accuracy
// over the first images reaches the window long before the whole set is done, and so that
// a stale measurement stops within one chunk's batch.
#pragma once

#include <QMap>
#include <QString>
#include <functional>
#include <vector>

#include "core/compress/compress_model.h"
#include "core/model/model.h"
#include "core/stats/weight_stats.h"
#include "ui/settings/evaluation_history.h"
#include "ui/worker/session.h"

namespace cwb::ui {

struct AccuracyResult {
    int samples = 0;
    int correct = 0;
    double seconds = 0.0;  // wall time of the forward passes only
    QString engine;
    QMap<QString, QString>
        kernelPaths;  // layer -> the kernel that ran it, e.g. "int8 (avx512-vnni)"
    double accuracy() const { return samples ? double(correct) / samples : 0.0; }
    double latencyMs() const { return samples ? 1000.0 * seconds / samples : 0.0; }
};

// Batch size of every measurement, so latencies are comparable; small enough that a
// cancel is seen within a few ms of work even for the CNNs.
inline constexpr int kEvalBatch = 250;

// Which engine runs the model: the float32 engine, or the compressed-model engine with the
// kernel choice ("auto", "int8", "sparse") and the compression's grids.
struct EngineChoice {
    QString kernels = QStringLiteral("float");
    const std::vector<KernelGrid>* grids = nullptr;
};

// `limit` > 0: only the first `limit` images (rounded up to whole chunks). `partial`
// (may be empty) receives the running result after every chunk, on the worker thread.
AccuracyResult measureAccuracy(const Model& model, const EngineChoice& engine,
                               const Session& session, const Progress& progress,
                               const std::function<void(const AccuracyResult&)>& partial = {},
                               int limit = 0);

// The kernel choices the window offers, in the core's spelling.
QStringList kernelChoices();

// One row of the evaluation history from a compression's statistics and a measurement.
EvaluatedPoint makePoint(const CompressionSettings& settings, const ModelStats& stats,
                         const AccuracyResult& accuracy);

}  // namespace cwb::ui
