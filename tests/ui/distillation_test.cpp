// The distillation page on a real teacher (the tf.keras MLP fixture): the soft targets on
// display equal softmax(z / T) of the teacher's logits computed here independently, a
// training run reports batches and epochs and stops within 200 ms when asked, and a
// finished student opens in the workbench.
#include <QSpinBox>
#include <QStandardPaths>
#include <QtTest>
#include <cmath>

#include "core/infer/engine.h"
#include "core/io/idx_dataset.h"
#include "core/io/model_loader.h"
#include "tests/ui/ui_test_support.h"
#include "ui/panels/distill_panel.h"
#include "ui/panels/log_slider.h"
#include "ui/plots/temperature_plot.h"
#include "ui/plots/training_curve_plot.h"
#include "ui/window/distillation_page.h"
#include "ui/worker/distill_controller.h"

using namespace cwb;
using namespace cwb::ui;

namespace {
const char* kTeacher = "k2_mlp_dropout_percy.h5";

// softmax(z / T) by the textbook formula, in double, with the max subtracted.
std::vector<double> naiveSoftmax(const std::vector<float>& z, double t) {
    double top = z[0];
    for (float v : z) top = std::max(top, double(v));
    std::vector<double> p(z.size());
    double sum = 0;
    for (size_t i = 0; i < z.size(); ++i) sum += p[i] = std::exp((z[i] - top) / t);
    for (double& v : p) v /= sum;
    return p;
}

double naiveEntropyBits(const std::vector<double>& p) {
    double h = 0;
    for (double v : p)
        if (v > 0) h -= v * std::log2(v);
    return h;
}
}  // namespace

class DistillationTest : public QObject {
    Q_OBJECT
    std::unique_ptr<MainWindow> m_window;

private slots:
    void initTestCase() {
        test::isolateSettings();
        QStandardPaths::setTestModeEnabled(true);
        m_window = std::make_unique<MainWindow>();
        m_window->resize(1280, 800);
        m_window->show();
        QSignalSpy ready(m_window.get(), &MainWindow::modelReady);
        m_window->openModel(QString::fromStdString(test::fixture(kTeacher)));
        QVERIFY(ready.wait(30000));
        CWB_WAIT_IDLE(*m_window, 60000);
    }

    void softTargetsOnDisplayEqualTheTeachersSoftmax_data() {
        QTest::addColumn<int>("sample");
        QTest::addColumn<double>("temperature");
        QTest::newRow("image 0 at T 1") << 0 << 1.0;
        QTest::newRow("image 3 at T 4") << 3 << 4.0;
        QTest::newRow("image 17 at T 20") << 17 << 20.0;
    }
    void softTargetsOnDisplayEqualTheTeachersSoftmax() {
        QFETCH(int, sample);
        QFETCH(double, temperature);
        MainWindow& w = *m_window;
        w.tabs()->setCurrentWidget(w.distillationPage());
        QSignalSpy previews(w.distillController(), &DistillController::previewReady);
        w.settingsOwner()->edit(SettingsField::Temperature, temperature);
        w.distillationPage()->panel()->sampleBox()->setValue(sample);
        QTRY_VERIFY_WITH_TIMEOUT(
            !previews.isEmpty() &&
                previews.last().first().value<PreviewResult>().sample == sample &&
                previews.last().first().value<PreviewResult>().temperature == temperature,
            20000);
        QTRY_VERIFY_WITH_TIMEOUT(w.distillController()->isIdle(), 20000);

        // The teacher's logits for this image, computed here with the plain float32 engine.
        const Model teacher = loadModel(test::fixture(kTeacher));
        EngineOptions options;
        options.logits = true;
        auto engine = makeCpuEngine(teacher, options);
        const Dataset data = loadFashionMnist(test::datasetDir(), Split::Test, sample + 1);
        std::vector<float> logits(size_t(engine->outputSize()));
        engine->forward(data.image(sample), 1, logits.data());
        const std::vector<double> expected = naiveSoftmax(logits, temperature);

        const auto shown = test::barsData(w.distillationPage()->temperaturePlot()->barsAtT());
        QCOMPARE(shown.size(), expected.size());
        for (size_t c = 0; c < expected.size(); ++c) {
            QCOMPARE(shown[c].first, double(c));
            QVERIFY2(
                std::abs(shown[c].second - expected[c]) < 1e-5,
                qPrintable(
                    QString("class %1: %2 vs %3").arg(c).arg(shown[c].second).arg(expected[c])));
        }
        const PreviewResult p = previews.last().first().value<PreviewResult>();
        QVERIFY(std::abs(p.entropyAtT - naiveEntropyBits(expected)) < 1e-4);
        QCOMPARE(p.label, int(data.labels[sample]));
    }

    void stoppingATrainingRunIsQuick() {
        DistillController* d = m_window->distillController();
        QSignalSpy batches(d, &DistillController::batchReported);
        QSignalSpy finished(d, &DistillController::trainingFinished);
        m_window->distillationPage()->panel()->setEpochs(5);
        m_window->distillationPage()->panel()->setTrainImages(10000);
        m_window->distillationPage()->startTraining();
        QVERIFY(d->isTraining());
        QTRY_VERIFY_WITH_TIMEOUT(!batches.isEmpty(), 120000);  // training has started for real
        QElapsedTimer timer;
        timer.start();
        d->cancelTraining();
        QTRY_VERIFY_WITH_TIMEOUT(d->trainLane().isIdle(), test::timeBoundMs(200));
        QVERIFY2(timer.elapsed() < test::timeBoundMs(200),
                 qPrintable(QString::number(timer.elapsed())));
        QVERIFY(!finished.isEmpty());
        QCOMPARE(finished.last().first().toBool(), false);
        QVERIFY(!d->student());
    }

    void aTrainedStudentLearnsAndOpensInTheWorkbench() {
        DistillController* d = m_window->distillController();
        QSignalSpy epochs(d, &DistillController::epochReported);
        QSignalSpy finished(d, &DistillController::trainingFinished);
        m_window->distillationPage()->panel()->setEpochs(2);
        m_window->distillationPage()->panel()->setTrainImages(10000);
        WorkbenchSettings s = m_window->settings();
        s.distill = {4.0, 0.5, "mlp:32"};
        m_window->settingsOwner()->editAll(s, "student");
        m_window->distillationPage()->startTraining();
        QTRY_VERIFY_WITH_TIMEOUT(!finished.isEmpty(), 300000);
        QVERIFY2(finished.last().first().toBool(), qPrintable(finished.last().at(1).toString()));
        QCOMPARE(epochs.count(), 2);
        const double accuracy = epochs.last().at(1).toDouble();
        // Two epochs over 10,000 images: a 784-32-10 student lands well above chance (10 %).
        QVERIFY2(accuracy > 0.7, qPrintable(QString::number(accuracy)));
        QVERIFY(m_window->distillationPage()->trainingPlot()->lossGraph()->dataCount() > 5);

        QSignalSpy ready(m_window.get(), &MainWindow::modelReady);
        emit m_window->distillationPage()->openStudentRequested();
        QVERIFY(ready.wait(60000));
        QVERIFY(m_window->controller()->session()->path.contains("student-mlp-32"));
        QCOMPARE(m_window->controller()->session()->model->parameterCount(),
                 784LL * 32 + 32 + 32 * 10 + 10);
        CWB_WAIT_IDLE(*m_window, 60000);
    }

    void cleanupTestCase() { m_window.reset(); }
};

QTEST_MAIN(DistillationTest)
#include "distillation_test.moc"
