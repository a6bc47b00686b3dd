// Temperature preview and student training off the GUI thread (see distill_controller.h).
#include "ui/worker/distill_controller.h"

#include <QElapsedTimer>
#include <cmath>

#include "core/backend/backend.h"
#include "core/error.h"
#include "core/infer/engine.h"
#include "core/train/arch_spec.h"
#include "core/train/teacher_logits.h"
#include "core/train/trainer.h"

namespace cwb::ui {

// What one teacher's jobs compute once and reuse. Jobs run on two lanes, so access locks.
struct DistillController::Cache {
    std::mutex mutex;
    std::shared_ptr<const train::TemperaturePreviewer> previewer;
    std::shared_ptr<const Dataset> trainData;  // the whole training split
    int logitsLimit = -1;                      // the images trainLogits covers (0 = all)
    std::shared_ptr<const std::vector<float>> trainLogits;
};

namespace {
double bits(double nats) { return nats / std::log(2.0); }

std::vector<double> row(const train::TemperaturePreview& p, int sample) {
    const auto begin = p.probabilities.begin() + std::ptrdiff_t(sample) * p.classes;
    return {begin, begin + p.classes};
}
}  // namespace

DistillController::DistillController(QObject* parent)
    : QObject(parent), m_datasetDir(kDefaultDatasetDir) {
    connect(&m_preview, &LatestWinsLane::failed, this, &DistillController::previewFailed);
    connect(&m_train, &LatestWinsLane::progressChanged, this, &DistillController::trainingProgress);
    connect(&m_train, &LatestWinsLane::failed, this,
            [this](const QString& message) { emit trainingFinished(false, message); });
}

DistillController::~DistillController() {
    m_train.cancel();
    m_preview.cancel();
}

void DistillController::setTeacher(std::shared_ptr<const Session> teacher) {
    if (!m_train.isIdle()) {
        m_train.cancel();
        emit trainingFinished(false, tr("stopped: a new teacher was opened"));
    }
    m_preview.cancel();
    m_teacher = std::move(teacher);
    auto cache = std::make_shared<Cache>();
    if (m_cache) {  // the training images do not depend on the teacher
        std::lock_guard lock(m_cache->mutex);
        cache->trainData = m_cache->trainData;
    }
    m_cache = cache;
}

void DistillController::requestPreview(int sample, double temperature) {
    if (!m_teacher || !m_teacher->canEvaluate()) return;
    const auto teacher = m_teacher;
    const auto cache = m_cache;
    sample = std::clamp(sample, 0, std::min(kPreviewSamples, teacher->testData->size()) - 1);
    m_preview.submit<PreviewResult>(
        [teacher, cache, sample, temperature](const JobContext&) {
            std::shared_ptr<const train::TemperaturePreviewer> previewer;
            {
                std::lock_guard lock(cache->mutex);
                previewer = cache->previewer;
            }
            const Dataset& data = *teacher->testData;
            if (!previewer) {
                EngineOptions options;
                options.logits = true;
                auto engine = makeCpuEngine(*teacher->model, options);
                const int n = std::min(kPreviewSamples, data.size());
                previewer = std::make_shared<const train::TemperaturePreviewer>(
                    train::TemperaturePreviewer::fromTeacher(*engine, data.image(0), n));
                std::lock_guard lock(cache->mutex);
                cache->previewer = previewer;
            }
            const train::TemperaturePreview atT = previewer->at(temperature, 1);
            const train::TemperaturePreview atOne = previewer->at(1.0, 1);
            PreviewResult r;
            r.sample = sample;
            r.label = data.labels[sample];
            r.temperature = temperature;
            r.atT = row(atT, sample);
            r.atOne = row(atOne, sample);
            r.entropyAtT = bits(atT.entropy[sample]);
            r.entropyAtOne = bits(atOne.entropy[sample]);
            r.maxEntropy = bits(atT.maxEntropy);
            r.pixels.assign(data.image(sample), data.image(sample) + data.pixelsPerImage());
            r.rows = data.rows;
            r.cols = data.cols;
            return r;
        },
        [this](PreviewResult r) { emit previewReady(r); });
}

void DistillController::startTraining(const DistillRequest& given) {
    DistillRequest request = given;
    if (!request.teacher) request.teacher = m_teacher;
    if (!request.teacher || !request.teacher->canEvaluate()) return;
    const auto cache = m_cache;
    const QString dir = m_datasetDir;
    m_train.submit<std::shared_ptr<const Model>>(
        [this, request, cache, dir](const JobContext& context) {
            std::shared_ptr<const Dataset> trainData;
            std::shared_ptr<const std::vector<float>> logits;
            {
                std::lock_guard lock(cache->mutex);
                trainData = cache->trainData;
                if (cache->logitsLimit == request.trainLimit) logits = cache->trainLogits;
            }
            if (!trainData) {
                context.post(
                    [this] { emit phaseChanged(tr("loading the training images\u2026")); });
                trainData = std::make_shared<const Dataset>(
                    loadFashionMnist(dir.toStdString(), Split::Train));
                std::lock_guard lock(cache->mutex);
                cache->trainData = trainData;
            }
            context.checkCancelled();
            std::shared_ptr<const Dataset> subset = trainData;
            if (request.trainLimit > 0 && request.trainLimit < trainData->size()) {
                auto first = std::make_shared<Dataset>();
                first->name = trainData->name;
                first->rows = trainData->rows;
                first->cols = trainData->cols;
                first->classes = trainData->classes;
                first->images.assign(trainData->image(0), trainData->image(request.trainLimit));
                first->labels.assign(trainData->labels.begin(),
                                     trainData->labels.begin() + request.trainLimit);
                subset = std::move(first);
            }
            if (!logits) {
                context.post([this, n = subset->size()] {
                    emit phaseChanged(
                        tr("teacher's soft targets on %L1 training images\u2026").arg(n));
                });
                logits = std::make_shared<const std::vector<float>>(
                    train::teacherLogits(*request.teacher->model, *subset, 0, context.progress));
                std::lock_guard lock(cache->mutex);
                cache->trainLogits = logits;
                cache->logitsLimit = request.trainLimit;
            }
            train::ArchOptions arch;
            arch.classes = trainData->classes;
            auto student =
                std::make_shared<Model>(train::buildModel(request.studentSpec.toStdString(), arch));
            train::TrainOptions options;
            options.epochs = request.epochs;
            options.batchSize = request.batchSize;
            options.evalLimit = request.evalLimit;
            options.distill.teacherLogits = logits->data();
            options.distill.classes = trainData->classes;
            options.distill.temperature = request.temperature;
            options.distill.weight = request.lambda;
            train::TrainCallbacks callbacks;
            callbacks.progress = context.progress;
            // A curve, not a flood of events:
            auto clock = std::make_shared<QElapsedTimer>();
            clock->start();
            callbacks.onBatch = [this, &context, clock](const train::BatchReport& b) {
                // At least ~25 points an epoch however fast it trains, at most one per 50 ms.
                const bool regular = b.batch % std::max(1, b.batches / 25) == 0;
                if (clock->elapsed() < 50 && !regular && b.batch != b.batches) return;
                clock->restart();
                const double epoch = (b.epoch - 1) + double(b.batch) / b.batches;
                context.post([this, epoch, loss = b.loss, acc = b.accuracy] {
                    emit batchReported(epoch, loss, acc);
                });
            };
            callbacks.onEpoch = [this, &context](const train::EpochReport& e) {
                context.post(
                    [this, e] { emit epochReported(e.epoch, e.testAccuracy, e.imagesPerSecond); });
            };
            context.post([this, request] {
                emit phaseChanged(tr("training %1 at T = %2, \u03bb = %3\u2026")
                                      .arg(request.studentSpec)
                                      .arg(request.temperature)
                                      .arg(request.lambda));
            });
            // On the Device box's choice, as the teacher's other jobs.
            backendOr(request.teacher->backend)
                .trainModel(*student, *subset, request.teacher->testData.get(), options, callbacks);
            student->sourcePath.clear();
            return std::shared_ptr<const Model>(std::move(student));
        },
        [this, spec = request.studentSpec](std::shared_ptr<const Model> student) {
            m_student = std::move(student);
            m_studentSpec = spec;
            emit trainingFinished(true, tr("student %1 trained").arg(spec));
        });
}

void DistillController::cancelTraining() {
    if (m_train.isIdle()) return;
    m_train.cancel();
    emit trainingFinished(false, tr("training stopped"));
}

}  // namespace cwb::ui
