// Distillation in the background: the temperature preview (the teacher's soft targets for a
// few test images, logits computed once per teacher) and training a student on the
// teacher's soft targets with per-batch progress, live curves and cancellation.
// Lanes: "preview" and "train" (LatestWinsLane); the training data and the teacher's
// logits on it are cached across runs, since they cost more than a short training.
#pragma once

#include <QObject>
#include <memory>
#include <mutex>

#include "core/model/model.h"
#include "core/train/temperature_preview.h"
#include "ui/worker/latest_wins_lane.h"
#include "ui/worker/session.h"

namespace cwb::ui {

struct PreviewResult {
    int sample = 0;
    int label = -1;  // the image's true class
    double temperature = 1.0;
    std::vector<double> atT, atOne;               // probabilities per class
    double entropyAtT = 0.0, entropyAtOne = 0.0;  // bits
    double maxEntropy = 0.0;                      // bits, log2(classes)
    std::vector<float> pixels;                    // the image, rows x cols in [0, 1]
    int rows = 0, cols = 0;
};

struct DistillRequest {
    std::shared_ptr<const Session> teacher;  // null: the controller's current teacher
    QString studentSpec;                     // core arch spec, e.g. "mlp:64"
    double temperature = 4.0;
    double lambda = 0.5;
    int epochs = 3;
    int batchSize = 64;
    int evalLimit = 2000;  // test images per epoch's accuracy
    int trainLimit = 0;    // training images (the first ones); 0 = all 60,000
};

class DistillController : public QObject {
    Q_OBJECT
public:
    explicit DistillController(QObject* parent = nullptr);
    ~DistillController() override;

    void setDatasetDir(const QString& dir) { m_datasetDir = dir; }
    // A new teacher drops the cached logits and any running training.
    void setTeacher(std::shared_ptr<const Session> teacher);
    void requestPreview(int sample, double temperature);
    static constexpr int kPreviewSamples = 100;

    void startTraining(const DistillRequest& request);
    void cancelTraining();
    bool isTraining() const { return !m_train.isIdle(); }
    bool isIdle() const { return m_train.isIdle() && m_preview.isIdle(); }
    // The last student that finished training (null before).
    std::shared_ptr<const Model> student() const { return m_student; }
    QString studentSpec() const { return m_studentSpec; }
    LatestWinsLane& trainLane() { return m_train; }

signals:
    void previewReady(const PreviewResult& preview);
    void previewFailed(const QString& message);
    void phaseChanged(const QString& text);  // "teacher's soft targets on 60,000 images", ...
    void trainingProgress(qint64 done, qint64 total);
    void batchReported(double epoch, double loss, double accuracy);  // epoch as a fraction
    void epochReported(int epoch, double testAccuracy, double imagesPerSecond);
    void trainingFinished(bool completed, const QString& message);

private:
    struct Cache;
    QString m_datasetDir;
    std::shared_ptr<const Session> m_teacher;
    std::shared_ptr<Cache> m_cache;  // shared with running jobs; replaced per teacher
    std::shared_ptr<const Model> m_student;
    QString m_studentSpec;
    LatestWinsLane m_preview{QStringLiteral("preview")};
    LatestWinsLane m_train{QStringLiteral("train")};
};

}  // namespace cwb::ui

Q_DECLARE_METATYPE(cwb::ui::PreviewResult)
