// Slider-driven background recomputation (see recompute_controller.h).
#include "ui/worker/recompute_controller.h"

#include "core/backend/backend.h"
#include "core/error.h"
#include "core/measure/sensitivity.h"
#include "ui/worker/load_job.h"
#include "ui/worker/wilson.h"

namespace cwb::ui {

namespace {
AccuracyUpdate makeUpdate(const WorkbenchSettings& settings, const Accuracy& r, bool final) {
    AccuracyUpdate u;
    u.settings = settings;
    u.samples = r.samples;
    u.correct = r.correct;
    u.total = r.total;
    u.final = final;
    std::tie(u.low, u.high) = wilsonInterval(r.correct, r.samples);
    return u;
}

QMap<QString, QString> kernelPathsOf(const Accuracy& accuracy) {
    QMap<QString, QString> out;
    for (const LayerKernel& k : accuracy.kernels)
        out.insert(QString::fromStdString(k.layer), QString::fromStdString(k.path));
    return out;
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

Backend* RecomputeController::backend() const { return &backendOr(m_backend); }

void RecomputeController::setDevice(const QString& device) {
    BackendChoice choice;
    try {
        choice = chooseBackend(device.toStdString());
    } catch (const Error& e) {  // a name remembered from another build: the CPU, said why
        choice = {&cpuBackend(), std::string(e.what()) + "; running on the CPU"};
    }
    m_device = device;
    const bool changed = choice.backend != &backendOr(m_backend);
    m_backend = choice.backend;
    emit deviceChosen(QString::fromStdString(m_backend->name()),
                      QString::fromStdString(choice.note));
    if (!changed || !m_session || isLoading()) return;
    // Everything measured so far ran elsewhere: measure the open model again here.
    for (LatestWinsLane* lane : {&m_compress, &m_evaluate, &m_baseline, &m_sweep, &m_sensitivity})
        lane->cancel();
    m_session = onBackend(*m_session, m_backend);
    m_result.reset();
    submitCompress();
    submitBaseline();
}

void RecomputeController::openModel(const QString& path) {
    for (LatestWinsLane* lane : {&m_compress, &m_evaluate, &m_baseline, &m_sweep, &m_sensitivity})
        lane->cancel();
    m_coalesce.stop();
    m_load.setProperty("path", path);
    emit modelLoading(path);
    const QString dir = m_datasetDir;
    const std::shared_ptr<const Session> cached = m_session;
    Backend* backend = m_backend;
    m_load.submit<std::shared_ptr<const Session>>(
        [path, dir, cached, backend](const JobContext& context) {
            return loadSession(path, dir, cached, backend, context);
        },
        [this](std::shared_ptr<const Session> session) {
            m_session = std::move(session);
            if (m_session->backend != &backendOr(m_backend))  // the device changed meanwhile
                m_session = onBackend(*m_session, m_backend);
            m_result.reset();
            emit modelLoaded();
            submitCompress();
            submitBaseline();
        });
}

void RecomputeController::requestSettings(const WorkbenchSettings& settings) {
    m_settings = settings;
    if (m_session && !isLoading()) m_coalesce.start();
}

void RecomputeController::submitCompress() {
    m_coalesce.stop();
    if (!m_session) return;
    const WorkbenchSettings settings = m_settings;
    if (m_result && !WorkbenchSettings::compressionDiffers(settings, m_resultSettings)) {
        // Only distillation settings or the kernels changed: no new compression.
        const bool remeasure = WorkbenchSettings::evaluationDiffers(settings, m_resultSettings);
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
            options.backend = session->backend;
            return std::make_shared<const CompressionResult>(
                compressModel(*session->model, settings.plan, options, context.progress));
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
    const WorkbenchSettings settings = m_resultSettings;
    m_evaluate.submit<Accuracy>(
        [this, session, result, settings](const JobContext& context) {
            return session->measurer->accuracy(
                result->model, {settings.kernels, &result->grids}, 0, context.progress,
                [&](const Accuracy& partial) {
                    if (partial.done()) return;  // the final one is delivered as the result
                    context.post([this, update = makeUpdate(settings, partial, false)] {
                        emit accuracyChanged(update);
                    });
                });
        },
        [this, result, settings](Accuracy accuracy) {
            emit accuracyChanged(makeUpdate(settings, accuracy, true));
            emit kernelsChosen(kernelPathsOf(accuracy));
            emit evaluated(makePoint(settings, result->total, accuracy));
        });
}

void RecomputeController::submitBaseline() {
    if (!m_session || !m_session->canEvaluate()) return;
    const auto session = m_session;
    m_baseline.submit<EvaluatedPoint>(
        [session](const JobContext& context) {
            // The default plan compresses nothing: the float32 model, with its statistics.
            const WorkbenchSettings none;
            const Measurement m =
                session->measurer->measure(none.plan, KernelChoice::Float, 0, context.progress);
            return makePoint(none, m.total, m.accuracy);
        },
        [this](EvaluatedPoint point) { emit baselineEvaluated(point); });
}

void RecomputeController::startSweep(SweepParameter parameter, const std::vector<double>& values,
                                     int limit) {
    if (!m_session || !m_session->canEvaluate() || values.empty()) return;
    const auto session = m_session;
    const WorkbenchSettings base = m_settings;
    SweepOptions options;
    options.parameter = parameter;
    options.values = values;
    options.kernels = base.kernels;
    options.limit = limit;
    m_sweepCount = static_cast<int>(values.size());
    m_sweep.submit<bool>(
        [this, session, base, options](const JobContext& context) {
            const int count = static_cast<int>(options.values.size());
            sweep(*session->measurer, base.plan, options, context.progress,
                  [&](const SweepRow& row, int index) {
                      WorkbenchSettings settings = base;
                      settings.plan = row.measurement.plan;
                      EvaluatedPoint point =
                          makePoint(settings, row.measurement.total, row.measurement.accuracy);
                      point.fromSweep = true;
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
    const WorkbenchSettings settings = m_settings;
    m_sensitivity.submit<SensitivityResult>(
        [session, settings, limit](const JobContext& context) {
            SensitivityOptions options;
            options.limit = limit;
            return layerSensitivity(*session->measurer, settings.plan, options, context.progress);
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
