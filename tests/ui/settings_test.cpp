// The small pieces under the window, against hand-worked figures: the log slider's mapping,
// undo merging, settings persistence, the CSV table, the Pareto front, sweep spacing, the
// Wilson interval, and the settings -> CompressionPlan translation.
#include <QSlider>
#include <QUndoStack>
#include <QtTest>

#include "tests/ui/ui_test_support.h"
#include "ui/panels/log_slider.h"
#include "ui/settings/evaluation_history.h"
#include "ui/settings/settings_undo.h"
#include "ui/worker/plan_builder.h"
#include "ui/worker/sweep_job.h"
#include "ui/worker/wilson.h"

using namespace cwb;
using namespace cwb::ui;

namespace {
EvaluatedPoint point(double alpha, double rho, double accuracy, double sizeBytes) {
    EvaluatedPoint p;
    p.settings.alpha = alpha;
    p.settings.rho = rho;
    p.accuracy = accuracy;
    p.sizeBytes = sizeBytes;
    p.samples = 10000;
    return p;
}
}  // namespace

class SettingsTest : public QObject {
    Q_OBJECT
private slots:
    void initTestCase() { test::isolateSettings(); }

    void logSliderCoversDecadesEvenly() {
        LogSlider s(1e-4, 1.0, true, 5);
        QCOMPARE(s.valueAt(0), 0.0);  // the "off" position
        QCOMPARE(s.valueAt(1), 1e-4);
        QCOMPARE(s.valueAt(LogSlider::kSteps), 1.0);
        // Four decades over kSteps - 1 steps: the middle of the travel is 1e-2, a decade is 100
        // steps.
        QCOMPARE(s.valueAt(1 + (LogSlider::kSteps - 1) / 2), 0.01);
        QCOMPARE(s.valueAt(101), 1e-3);
        for (int pos : {1, 37, 200, 201, 400, 401}) QCOMPARE(s.positionOf(s.valueAt(pos)), pos);
        QSignalSpy edited(&s, &LogSlider::valueEdited);
        s.setValue(0.05);  // programmatic: no signal
        QCOMPARE(edited.count(), 0);
        QCOMPARE(s.value(), 0.05);
        s.slider()->setValue(0);  // user: one signal, value off
        QCOMPARE(edited.count(), 1);
        QCOMPARE(edited.first().first().toDouble(), 0.0);
    }

    void oneDragIsOneUndoStep() {
        QUndoStack stack;
        CompressionSettings current;
        auto apply = [&current](const CompressionSettings& s) { current = s; };
        auto push = [&](double alpha, const QString& control) {
            CompressionSettings next = current;
            next.alpha = alpha;
            stack.push(new SetSettingsCommand(current, next, control, apply));
        };
        for (double a : {0.01, 0.02, 0.03, 0.04}) push(a, "alpha");
        CompressionSettings withRho = current;
        withRho.rho = 0.1;
        stack.push(new SetSettingsCommand(current, withRho, "rho", apply));
        QCOMPARE(stack.count(), 2);
        stack.undo();
        QCOMPARE(current.rho, 0.0);
        QCOMPARE(current.alpha, 0.04);
        stack.undo();
        QCOMPARE(current.alpha, 0.0);
        stack.redo();
        QCOMPARE(current.alpha, 0.04);
    }

    void settingsSurviveARestart() {
        CompressionSettings s;
        s.alpha = 0.0125;
        s.rho = 0.03;
        s.textbookRho = true;
        s.bits = 4;
        s.granularity = "channel";
        s.scheme = "asymmetric";
        s.temperature = 6.5;
        s.lambda = 0.7;
        s.student = "mlp:32";
        s.kernels = "int8";
        {
            QSettings q;
            s.save(q);
        }
        QSettings q;
        const CompressionSettings back = CompressionSettings::load(q);
        QVERIFY(back == s);
    }

    void planFollowsTheSettings() {
        CompressionSettings s;
        s.alpha = 0.05;
        s.rho = 0.02;
        s.overrides["dense_1"] = LayerMode::KeepFloat;
        CompressionPlan plan = toPlan(s);
        QCOMPARE(plan.defaults.quant.alpha, 0.05f);
        QCOMPARE(plan.defaults.quant.bits, 0);
        QCOMPARE(plan.defaults.prune.rho, 0.02f);
        QVERIFY(plan.defaults.prune.method == PruneMethod::Threshold);
        QCOMPARE(int(plan.overrides.size()), 1);
        QCOMPARE(plan.overrides[0].layer, std::string("dense_1"));
        QVERIFY(plan.overrides[0].keepFloat);
        s.textbookRho = true;
        s.bits = 4;
        s.granularity = "group64";
        s.scheme = "asymmetric";
        plan = toPlan(s);
        QVERIFY(plan.defaults.prune.method == PruneMethod::TextbookThreshold);
        QVERIFY(plan.defaults.quant.granularity == Granularity::Group);
        QCOMPARE(plan.defaults.quant.groupSize, 64);
        QVERIFY(plan.defaults.quant.scheme == QuantScheme::Asymmetric);
        // Granularity needs a bit width; in alpha mode it is left per tensor, as core requires.
        s.bits = 0;
        QVERIFY(toPlan(s).defaults.quant.granularity == Granularity::Tensor);
    }

    void paretoFrontOfAHandMadeSet() {
        EvaluationHistory h;
        h.add(point(0, 0, 0.90, 1000));    // 0: float, on the front (most accurate)
        h.add(point(0.01, 0, 0.89, 300));  // 1: front
        h.add(point(0.02, 0, 0.85, 320));  // 2: dominated by 1
        h.add(point(0.05, 0, 0.80, 100));  // 3: front (smallest)
        h.add(point(0.04, 0, 0.80, 150));  // 4: dominated by 3
        QCOMPARE(h.paretoFront(), (QVector<int>{3, 1, 0}));
        // Same settings again with more samples replaces; with fewer is ignored.
        EvaluatedPoint better = point(0.01, 0, 0.891, 300);
        better.samples = 10000;
        h.add(better);
        QCOMPARE(h.points().size(), 5);
        QCOMPARE(h.points()[1].accuracy, 0.891);
        EvaluatedPoint worse = point(0.01, 0, 0.5, 300);
        worse.samples = 100;
        h.add(worse);
        QCOMPARE(h.points()[1].accuracy, 0.891);
    }

    void curveKeepsOnlyTheActiveParameterVarying() {
        EvaluationHistory h;
        h.add(point(0.02, 0.01, 0.8, 1));
        h.add(point(0.01, 0.01, 0.9, 1));
        h.add(point(0.01, 0.05, 0.7, 1));  // other rho: not on the alpha curve at rho 0.01
        CompressionSettings at;
        at.rho = 0.01;
        const auto curve = h.curve(at, Parameter::Alpha);
        QCOMPARE(curve.size(), 2);
        QCOMPARE(curve[0].settings.alpha, 0.01);
        QCOMPARE(curve[1].settings.alpha, 0.02);
    }

    void csvIsExact() {
        EvaluationHistory h;
        EvaluatedPoint p = point(0.05, 0.02, 0.8857, 174800);
        p.latencyMs = 0.0125;
        p.engine = "cpu float32";
        p.sparsity = 0.25;
        p.effectiveBits = 5;
        h.add(p);
        const QStringList lines = h.toCsv().split('\n', Qt::SkipEmptyParts);
        QCOMPARE(lines.size(), 2);
        QCOMPARE(
            lines[0],
            QString("alpha,rho,textbook_rho,bits,granularity,scheme,float_layers,samples,accuracy,"
                    "latency_ms_per_image,size_kb,sparsity,effective_bits,kernels,engine,source"));
        QCOMPARE(lines[1],
                 QString("0.05,0.02,0,0,tensor,symmetric,0,10000,0.8857,0.0125,170.703125,0.25,5,"
                         "auto,cpu float32,slider"));
        const QString path = QString::fromStdString(test::tempDir()) + "/table.csv";
        QString error;
        QVERIFY(h.writeCsv(path, &error));
        QFile f(path);
        QVERIFY(f.open(QIODevice::ReadOnly));
        QCOMPARE(QString::fromUtf8(f.readAll()), h.toCsv());
    }

    void sweepValuesAreLogSpaced() {
        QCOMPARE(logSpaced(0.001, 1.0, 4), (QVector<double>{0.001, 0.01, 0.1, 1.0}));
        QCOMPARE(logSpaced(0.01, 0.04, 3), (QVector<double>{0.01, 0.02, 0.04}));
        QVERIFY(logSpaced(0.0, 1.0, 5).isEmpty());
    }

    void wilsonIntervalByHand_data() {
        QTest::addColumn<int>("successes");
        QTest::addColumn<int>("trials");
        QTest::addColumn<double>("low");
        QTest::addColumn<double>("high");
        // Worked by hand from (p + z^2/2n +- z sqrt(p(1-p)/n + z^2/4n^2)) / (1 + z^2/n), z = 1.96.
        QTest::newRow("50 of 100") << 50 << 100 << 0.40383 << 0.59617;
        QTest::newRow("0 of 10") << 0 << 10 << 0.0 << 0.27754;
        QTest::newRow("900 of 1000") << 900 << 1000 << 0.87985 << 0.91709;
    }
    void wilsonIntervalByHand() {
        QFETCH(int, successes);
        QFETCH(int, trials);
        QFETCH(double, low);
        QFETCH(double, high);
        const auto [lo, hi] = wilsonInterval(successes, trials);
        QVERIFY2(std::abs(lo - low) < 1e-4, qPrintable(QString::number(lo, 'f', 6)));
        QVERIFY2(std::abs(hi - high) < 1e-4, qPrintable(QString::number(hi, 'f', 6)));
    }
};

QTEST_MAIN(SettingsTest)
#include "settings_test.moc"
