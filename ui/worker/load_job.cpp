// Loading a model and the data set in the background (see load_job.h).
#include "ui/worker/load_job.h"

#include <QElapsedTimer>
#include <QFileInfo>

#include "core/backend/backend.h"
#include "core/error.h"
#include "core/io/model_loader.h"

namespace cwb::ui {

namespace {

void loadData(Session& s, const QString& dir, const JobContext& context) {
    try {
        s.testData =
            std::make_shared<const Dataset>(loadFashionMnist(dir.toStdString(), Split::Test));
        context.checkCancelled();
    } catch (const Cancelled&) {
        throw;
    } catch (const Error& e) {
        s.dataMessage = QString::fromStdString(e.what());
    }
}

std::shared_ptr<const Measurer> makeMeasurer(const Session& s) {
    MeasurerOptions options;
    options.batchSize = kEvalBatch;
    options.chunk = kAccuracyChunk;
    options.stats = s.stats;
    options.profile = s.profile;
    options.backend = s.backend;
    return std::make_shared<const Measurer>(s.model, s.testData, options);
}

}  // namespace

std::shared_ptr<const Session> loadSession(const QString& modelPath, const QString& datasetDir,
                                           const std::shared_ptr<const Session>& cached,
                                           Backend* backend, const JobContext& context) {
    QElapsedTimer timer;
    timer.start();
    auto s = std::make_shared<Session>();
    s->path = QFileInfo(modelPath).absoluteFilePath();
    auto model = std::make_shared<Model>(loadModel(modelPath.toStdString()));
    context.checkCancelled();
    s->stats = StatsOptions{};
    s->profile = profileWeights(*model, s->stats, 0, context.progress);
    s->model = std::move(model);
    if (cached && cached->testData) {
        s->testData = cached->testData;
    } else {  // never loaded, or missing last time: the user may have installed it since
        loadData(*s, datasetDir, context);
    }
    s->backend = &backendOr(backend);
    if (s->testData) s->measurer = makeMeasurer(*s);
    s->loadSeconds = timer.elapsed() / 1000.0;
    return s;
}

std::shared_ptr<const Session> onBackend(const Session& session, Backend* backend) {
    auto s = std::make_shared<Session>(session);
    s->backend = &backendOr(backend);
    if (s->testData) s->measurer = makeMeasurer(*s);
    return s;
}

}  // namespace cwb::ui
