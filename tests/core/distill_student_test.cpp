// A real student: a 784-128-10 MLP distilled for 2 epochs from a real teacher CNN
// (k2_cnn_bn_evanchien.h5, 0.9108 on the test set per EXPECTED.md) on the full Fashion-MNIST
// training set must reach >= 85% test accuracy. The same student trained without the
// teacher (kd-weight 0, same seed) is reported beside it. The student is saved, loaded back
// and evaluated by the inference engine, which must agree with the trainer's figure.
#include <QtTest>
#include <chrono>

#include "core/infer/engine.h"
#include "core/infer/evaluate.h"
#include "core/io/keras_h5_writer.h"
#include "core/io/model_loader.h"
#include "core/train/arch_spec.h"
#include "core/train/teacher_logits.h"
#include "core/train/temperature_preview.h"
#include "core/train/trainer.h"
#include "tests/support/test_paths.h"

using namespace cwb;
using namespace cwb::train;
using Clock = std::chrono::steady_clock;

class DistillStudentTest : public QObject {
    Q_OBJECT
private slots:
    void mlpStudentFromFixtureCnn() {
        const Dataset train = loadFashionMnist(test::datasetDir(), Split::Train);
        const Dataset testSet = loadFashionMnist(test::datasetDir(), Split::Test);
        const Model teacher = loadModel(test::fixture("k2_cnn_bn_evanchien.h5"));

        auto start = Clock::now();
        const std::vector<float> logits = teacherLogits(teacher, train, 2);
        const double logitSeconds = std::chrono::duration<double>(Clock::now() - start).count();
        QCOMPARE(logits.size(), std::size_t(60000) * 10);
        // Logits (before the softmax), and a teacher that knows the training set.
        int agree = 0;
        float largest = 0;
        for (int i = 0; i < train.size(); ++i) {
            const float* z = logits.data() + static_cast<std::size_t>(i) * 10;
            agree += (std::max_element(z, z + 10) - z) == train.labels[i];
            largest = std::max(largest, *std::max_element(z, z + 10));
        }
        QVERIFY2(agree > 0.9 * train.size(), qPrintable(QString::number(agree)));
        QVERIFY(largest > 1.5f);

        TrainOptions options;
        options.epochs = 2;
        options.batchSize = 32;  // Keras's default, and `cwb distill`'s
        options.threads = 2;
        options.seed = 1;
        options.distill = {logits.data(), 10, 2.0, 0.5};
        Model student = buildModel("mlp:128");
        start = Clock::now();
        const TrainResult distilled = trainModel(student, train, &testSet, options);
        const double trainSeconds = std::chrono::duration<double>(Clock::now() - start).count();

        TrainOptions plain = options;
        plain.distill = {};
        Model baseline = buildModel("mlp:128");
        const TrainResult base = trainModel(baseline, train, &testSet, plain);

        const double acc = distilled.epochs.back().testAccuracy;
        qInfo("teacher logits on 60000 images: %.1f s; student 2 epochs: %.1f s", logitSeconds,
              trainSeconds);
        qInfo(
            "student mlp:128 (T 2, kd-weight 0.5): test accuracy %.4f, loss %.4f | baseline "
            "(kd-weight 0): %.4f, "
            "loss %.4f",
            acc, distilled.epochs.back().testLoss, base.epochs.back().testAccuracy,
            base.epochs.back().testLoss);
        QVERIFY2(acc >= 0.85, qPrintable(QString::number(acc)));

        // Saved, loaded back and evaluated by the inference engine: the same accuracy (at most
        // 5 of 10 000 predictions may differ through float summation order).
        const std::string path = test::tempDir() + "/student.h5";
        saveKerasH5(student, path);
        const Model reloaded = loadModel(path);
        const auto engine = makeCpuEngine(reloaded);
        const EvalResult e = evaluate(*engine, testSet);
        QVERIFY2(std::fabs(e.accuracy - acc) <= 0.0005,
                 qPrintable(QString("%1 vs %2").arg(e.accuracy).arg(acc)));
    }

    void previewFromTheTeacherEngine() {
        const Model teacher = loadModel(test::fixture("k2_cnn_bn_evanchien.h5"));
        EngineOptions options;
        options.logits = true;
        const auto engine = makeCpuEngine(teacher, options);
        const Dataset testSet = loadFashionMnist(test::datasetDir(), Split::Test, 64);
        const TemperaturePreviewer previewer =
            TemperaturePreviewer::fromTeacher(*engine, testSet.images.data(), 64);
        // At T = 1 the preview is the teacher's own softmax output: compare with the engine
        // without EngineOptions::logits.
        const auto probabilities = makeCpuEngine(teacher);
        std::vector<float> expected(64 * 10);
        probabilities->forward(testSet.images.data(), 64, expected.data());
        const TemperaturePreview p1 = previewer.at(1.0);
        for (int i = 0; i < 640; ++i) QVERIFY(std::fabs(p1.probabilities[i] - expected[i]) < 1e-5);
        // Softening raises the entropy and lowers the top probability.
        const TemperaturePreview p4 = previewer.at(4.0);
        QVERIFY(p4.meanEntropy > p1.meanEntropy && p4.meanTopProbability < p1.meanTopProbability);
        auto started = Clock::now();
        for (int i = 0; i < 100; ++i) previewer.at(1.0 + i * 0.1, 3);
        const double perPreview =
            std::chrono::duration<double>(Clock::now() - started).count() / 100;
        qInfo("preview of 64 images: %.1f us", perPreview * 1e6);
    }
};

QTEST_APPLESS_MAIN(DistillStudentTest)
#include "distill_student_test.moc"
