// Slider-driven background recomputation (see recompute_controller.h).
#include "ui/worker/recompute_controller.h"

#include "core/error.h"
#include "core/stats/sensitivity.h"
#include "ui/worker/accuracy_job.h"
#include "ui/worker/load_job.h"
#include "ui/worker/plan_builder.h"
#include "ui/worker/sweep_job.h"
#include "ui/worker/wilson.h"

namespace cwb::ui {

namespace {
AccuracyUpdate makeUpdate(const CompressionSettings& settings, const AccuracyResult& r, int total,
                          bool final) {
    AccuracyUpdate u;
    u.settings = settings;
    u.samples = r.samples;
    u.correct = r.correct;
    u.total = total;
    u.final = final;
    std::tie(u.low, u.high) = wilsonInterval(r.correct, r.samples);
    return u;
}
}  // namespace

RecomputeController::RecomputeController(QObject* parent)
    : QObject(parent), m_datasetDir(kDefaultDatasetDir) {
    m_measurePool.setMaxThreadCount(1);
    m_coalesce.setSingleShot(true);
    m_coalesce.setInterval(0);  // merges one event-loop burst; the pending slot merges the rest
    connect(&m_coalesce, &QTimer::timeout, this, &RecomputeController::submitCompress);
    for (LatestWinsLane* lane :
         {&m_load, &m_compress, &m_evaluate, &m_baseline, &m_sweep, &m_sensitivity})
        connect(lane, &LatestWinsLane::busyChanged, this, &RecomputeController::updateBusy);
    connect(&m_evaluate, &LatestWinsLane::progressChanged, this,
            &RecomputeController::evaluationProgress);
    connect(&m_sweep, &LatestWinsLane::progressChanged, this, &RecomputeController::sweepProgress);
    connect(&m_sensitivity, &LatestWinsLane::progressChanged, this,
            &RecomputeController::sensitivityProgress);
    connect(&m_sensitivity, &LatestWinsLane::failed, this, &RecomputeController::compressFailed);
    connect(&m_compress, &LatestWinsLane::failed, this, &RecomputeController::compressFailed);
    connect(&m_sweep, &LatestWinsLane::failed, this, [this](const QString& message) {
        emit compressFailed(message);
        emit sweepFinished(false);
    });
    connect(&m_load, &LatestWinsLane::failed, this, [this](const QString& message) {
        emit modelFailed(m_load.property("path").toString(), message);
    });
}

RecomputeController::~RecomputeController() {
    // Stop every lane first, so that no lane waits for another's long job on destruction.
    for (LatestWinsLane* lane :
         {&m_load, &m_compress, &m_evaluate, &m_baseline, &m_sweep, &m_sensitivity})
        lane->cancel();
}

bool RecomputeController::isIdle() const {
    return !m_coalesce.isActive() && m_load.isIdle() && m_compress.isIdle() &&
           m_evaluate.isIdle() && m_baseline.isIdle() && m_sweep.isIdle() && m_sensitivity.isIdle();
}

void RecomputeController::updateBusy() {
    const bool busy = !isIdle();
    if (busy != m_busy) {
        m_busy = busy;
        emit busyChanged(busy);
    }
}

void RecomputeController::openModel(const QString& path) {
    for (LatestWinsLane* lane : {&m_compress, &m_evaluate, &m_baseline, &m_sweep, &m_sensitivity})
        lane->cancel();
    m_coalesce.stop();
    m_load.setProperty("path", path);
    emit modelLoading(path);
    const QString dir = m_datasetDir;
    const std::shared_ptr<const Session> cached = m_session;
    m_load.submit<std::shared_ptr<const Session>>(
        [path, dir, cached](const JobContext& context) {
            return loadSession(path, dir, cached, context);
        },
        [this](std::shared_ptr<const Session> session) {
            m_session = std::move(session);
            m_result.reset();
            emit modelLoaded();
            submitCompress();
            submitBaseline();
        });
}

void RecomputeController::requestSettings(const CompressionSettings& settings) {
    m_settings = settings;
    if (m_session && !isLoading()) m_coalesce.start();
}

void RecomputeController::submitCompress() {
    m_coalesce.stop();
    if (!m_session) return;
    const CompressionSettings settings = m_settings;
    if (m_result && !CompressionSettings::compressionDiffers(settings, m_resultSettings)) {
        // Only distillation settings or the kernels changed: no new compression.
        const bool remeasure = CompressionSettings::evaluationDiffers(settings, m_resultSettings);
        m_resultSettings = settings;
        if (remeasure) submitEvaluate();
        return;
    }
    m_evaluate.cancel();  // its model is about to be stale; don't spend cores on it
    const auto session = m_session;
    m_compress.submit<std::shared_ptr<const CompressionResult>>(
        [session, settings](const JobContext& context) {
            CompressOptions options;
            options.stats = session->stats;
            options.profile = session->profile;
            return std::make_shared<const CompressionResult>(
                compressModel(*session->model, toPlan(settings), options, context.progress));
        },
        [this, settings](std::shared_ptr<const CompressionResult> result) {
            m_result = std::move(result);
            m_resultSettings = settings;
            emit compressed();
            submitEvaluate();
        });
}

void RecomputeController::submitEvaluate() {
    if (!m_session || !m_session->canEvaluate() || !m_result) return;
    const auto session = m_session;
    const auto result = m_result;
    const CompressionSettings settings = m_resultSettings;
    const int total = session->testData->size();
    m_evaluate.submit<AccuracyResult>(
        [this, session, result, settings, total](const JobContext& context) {
            const EngineChoice engine{settings.kernels, &result->grids};
            return measureAccuracy(
                result->model, engine, *session, context.progress,
                [&](const AccuracyResult& partial) {
                    if (partial.samples >= total)
                        return;  // the final one is delivered as the result
                    context.post([this, update = makeUpdate(settings, partial, total, false)] {
                        emit accuracyChanged(update);
                    });
                });
        },
        [this, result, settings, total](AccuracyResult accuracy) {
            emit accuracyChanged(makeUpdate(settings, accuracy, total, true));
            emit kernelsChosen(accuracy.kernelPaths);
            emit evaluated(makePoint(settings, result->total, accuracy));
        });
}

void RecomputeController::submitBaseline() {
    if (!m_session || !m_session->canEvaluate()) return;
    const auto session = m_session;
    m_baseline.submit<EvaluatedPoint>(
        [session](const JobContext& context) {
            CompressOptions options;
            options.stats = session->stats;
            options.stats.histograms = false;
            options.profile = session->profile;
            const CompressionSettings none;
            const CompressionResult plain =
                compressModel(*session->model, toPlan(none), options, context.progress);
            return makePoint(none, plain.total,
                             measureAccuracy(*session->model, {}, *session, context.progress));
        },
        [this](EvaluatedPoint point) { emit baselineEvaluated(point); });
}

void RecomputeController::startSweep(Parameter parameter, const QVector<double>& values,
                                     int limit) {
    if (!m_session || !m_session->canEvaluate() || values.isEmpty()) return;
    SweepRequest request{m_session, m_settings, parameter, values, limit};
    m_sweepCount = static_cast<int>(values.size());
    m_sweep.submit<bool>(
        [this, request](const JobContext& context) {
            const int count = static_cast<int>(request.values.size());
            runSweep(request, context,
                     [this, &context, count](const EvaluatedPoint& point, int index) {
                         context.post(
                             [this, point, index, count] { emit sweepPoint(point, index, count); });
                     });
            return true;
        },
        [this](bool) { emit sweepFinished(true); });
}

void RecomputeController::startSensitivity(int limit) {
    if (!m_session || !m_session->canEvaluate()) return;
    const auto session = m_session;
    const CompressionSettings settings = m_settings;
    m_sensitivity.submit<SensitivityResult>(
        [session, settings, limit](const JobContext& context) {
            SensitivityOptions options;
            options.limit = limit;
            options.progress = context.progress;
            return layerSensitivity(*session->model, toPlan(settings), *session->testData, options);
        },
        [this, settings](SensitivityResult r) {
            QMap<QString, double> drops;
            for (const SensitivityRow& row : r.rows)
                drops.insert(QString::fromStdString(row.name), row.drop);
            emit sensitivityReady(settings, drops, r.samples);
        });
}

void RecomputeController::cancelSweep() {
    if (m_sweep.isIdle()) return;
    m_sweep.cancel();
    emit sweepFinished(false);
}

}  // namespace cwb::ui
