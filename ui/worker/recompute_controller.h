// The heart of the window: turns slider moves into background work and brings back only
// results that still matter.
//
// Lanes, each one thread with a single pending slot (LatestWinsLane):
//   load      opening a model file and the data set (HDF5 never blocks the GUI)
//   compress  one fused compressModel() per settings change: histograms and statistics
//   evaluate  accuracy and latency of the newest compressed model, chunk by chunk
//   baseline  the float32 model's accuracy, once per model
//   sweep     the active parameter over a range, point by point
//   sensitivity  accuracy with one layer compressed at a time
// (the last four take turns on one measuring thread, so measured latencies stay clean, and
// all measure through the session's core Measurer: core/measure).
// Slider moves are coalesced by a single-shot timer; a new request makes older work stale
// (its next Progress::step throws Cancelled) and its results are dropped on arrival. The
// compress lane never waits for accuracy: histograms follow the sliders, accuracy follows
// as soon as it is computed.
#pragma once

#include <QMap>
#include <QObject>
#include <QThreadPool>
#include <QTimer>
#include <memory>

#include "core/compress/compress_model.h"
#include "core/compress/compression_settings.h"
#include "core/measure/sweep.h"
#include "ui/settings/evaluation_history.h"
#include "ui/worker/latest_wins_lane.h"
#include "ui/worker/session.h"

namespace cwb::ui {

// A running or final accuracy for the newest settings.
struct AccuracyUpdate {
    WorkbenchSettings settings;
    int samples = 0, correct = 0, total = 0;
    bool final = false;
    double low = 0.0, high = 1.0;  // 95 % Wilson interval
    double accuracy() const { return samples ? double(correct) / samples : 0.0; }
};

class RecomputeController : public QObject {
    Q_OBJECT
public:
    explicit RecomputeController(QObject* parent = nullptr);
    ~RecomputeController() override;

    void setDatasetDir(const QString& dir) { m_datasetDir = dir; }
    QString datasetDir() const { return m_datasetDir; }
    // Coalescing delay for bursts of slider moves (ms); 0 still merges one event-loop burst.
    void setCoalesceMs(int ms) { m_coalesce.setInterval(ms); }

    // The device the jobs run on, by the name chooseBackend() takes ("cpu", "cuda:1"): the
    // open model is measured again there. deviceChosen follows, with the fallback note
    // where another device runs the jobs.
    void setDevice(const QString& device);
    QString device() const { return m_device; }
    // The backend the jobs run on now (never null: the CPU's where none was chosen).
    Backend* backend() const;

    void openModel(const QString& path);
    std::shared_ptr<const Session> session() const { return m_session; }
    bool isLoading() const { return !m_load.isIdle(); }

    // The newest settings (the settings owner's); recomputation follows.
    void requestSettings(const WorkbenchSettings& settings);
    const WorkbenchSettings& settings() const { return m_settings; }
    // The compression of resultSettings(), the newest settings whose result arrived.
    std::shared_ptr<const CompressionResult> result() const { return m_result; }
    const WorkbenchSettings& resultSettings() const { return m_resultSettings; }

    // The core's sweep() of `parameter` over `values` from the newest settings; `limit`
    // images per point (0 = all).
    void startSweep(SweepParameter parameter, const std::vector<double>& values, int limit = 0);
    // Accuracy with only one layer compressed at the current settings, for every layer,
    // on the first `limit` test images (the core's layerSensitivity).
    void startSensitivity(int limit);
    void cancelSweep();
    bool isSweeping() const { return !m_sweep.isIdle(); }

    // Nothing pending, nothing running (tests and the screenshot wait for this).
    bool isIdle() const;
    LatestWinsLane& compressLane() { return m_compress; }
    LatestWinsLane& evaluateLane() { return m_evaluate; }
    LatestWinsLane& sweepLane() { return m_sweep; }

signals:
    // The backend the jobs now run on (its name()) and chooseBackend's note (empty when it is
    // the device asked for).
    void deviceChosen(const QString& backend, const QString& note);
    void modelLoading(const QString& path);
    void modelLoaded();  // session() is the new model
    void modelFailed(const QString& path, const QString& message);
    void compressed();  // result() is new
    void compressFailed(const QString& message);
    void accuracyChanged(const AccuracyUpdate& update);
    void evaluated(const EvaluatedPoint& point);  // final, for the newest settings
    void kernelsChosen(const QMap<QString, QString>& pathByLayer);  // with evaluated()
    void baselineEvaluated(const EvaluatedPoint& point);            // the float32 model
    void sweepPoint(const EvaluatedPoint& point, int index, int count);
    void sweepProgress(qint64 done, qint64 total);
    void sweepFinished(bool completed);
    // Accuracy drop (fraction, positive = worse) per layer name when only it is compressed.
    void sensitivityReady(const WorkbenchSettings& settings,
                          const QMap<QString, double>& dropByLayer, int samples);
    void sensitivityProgress(qint64 done, qint64 total);
    void evaluationProgress(qint64 done, qint64 total);
    void busyChanged(bool busy);

private:
    void submitCompress();
    void submitEvaluate();
    void submitBaseline();
    void updateBusy();

    QString m_datasetDir;
    QTimer m_coalesce;
    // Accuracy and latency measurements share one thread, so a sweep never inflates the
    // latency measured for the current setting (or the other way round).
    QThreadPool m_measurePool;
    LatestWinsLane m_load{QStringLiteral("load")};
    LatestWinsLane m_compress{QStringLiteral("compress")};
    LatestWinsLane m_evaluate{QStringLiteral("evaluate"), &m_measurePool};
    LatestWinsLane m_baseline{QStringLiteral("baseline"), &m_measurePool};
    LatestWinsLane m_sweep{QStringLiteral("sweep"), &m_measurePool};
    LatestWinsLane m_sensitivity{QStringLiteral("sensitivity"), &m_measurePool};
    QString m_device = QStringLiteral("cpu");
    Backend* m_backend = nullptr;  // null: the CPU
    std::shared_ptr<const Session> m_session;
    WorkbenchSettings m_settings;
    WorkbenchSettings m_resultSettings;
    std::shared_ptr<const CompressionResult> m_result;
    int m_sweepCount = 0;
    bool m_busy = false;
};

}  // namespace cwb::ui
