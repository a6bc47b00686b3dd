// The window end to end on a real model (the tf.keras MLP fixture) and the real test set:
// what the plots show is what the core computes for the same settings, a slider storm ends
// on the last setting, sweeps cancel quickly, and the GUI thread never stalls.
#include <unistd.h>

#include <QCheckBox>
#include <QComboBox>
#include <QSlider>
#include <QtTest>
#include <cmath>
#include <ctime>

#include "core/compress/compress_model.h"
#include "core/io/idx_dataset.h"
#include "core/io/model_loader.h"
#include "core/measure/sensitivity.h"
#include "tests/ui/ui_test_support.h"
#include "ui/panels/controls_panel.h"
#include "ui/panels/layer_panel.h"
#include "ui/panels/log_slider.h"
#include "ui/panels/summary_panel.h"
#include "ui/plots/error_histogram_plot.h"
#include "ui/plots/metric_curve_plot.h"
#include "ui/plots/weight_histogram_plot.h"
#include "ui/window/compression_page.h"
#include "ui/window/status_line.h"
#include "ui/worker/latest_wins_lane.h"

using namespace cwb;
using namespace cwb::ui;

namespace {
// CPU time this thread has used, in ms.
double threadCpuMs() {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

// CPU time used so far by the whole machine (from /proc/stat) and by this process, in ms.
struct CpuTimes {
    double machineMs = 0, processMs = 0;

    static CpuTimes now() {
        CpuTimes t;
        QFile f("/proc/stat");
        if (f.open(QIODevice::ReadOnly)) {
            // cpu  user nice system idle iowait irq softirq steal ...: busy is all but idle and
            // iowait.
            const QList<QByteArray> fields = f.readLine().simplified().split(' ');
            double busyTicks = 0;
            for (int i = 1; i < fields.size() && i <= 8; ++i)
                if (i != 4 && i != 5) busyTicks += fields[i].toDouble();
            t.machineMs = busyTicks * 1000.0 / static_cast<double>(sysconf(_SC_CLK_TCK));
        }
        timespec ts{};
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
        t.processMs = ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
        return t;
    }
};

const char* kModel = "k2_mlp_dropout_percy.h5";

// The histogram the core reports for these settings, computed here without the window.
TensorStats coreStats(const Model& model, double alpha, double rho, const std::string& layer) {
    const CompressionResult r =
        compressModel(model, CompressionPlan::uniform(float(alpha), float(rho)));
    if (layer.empty()) return r.total.weights;
    for (const LayerStats& ls : r.layers)
        if (ls.name == layer) return ls.kernel;
    qFatal("no layer %s", layer.c_str());
}

// Bars on display == the core's histogram: one bar per bin at the bin's centre, width = bin width.
void compareBars(const QCPBars* bars, const Histogram& h) {
    const auto shown = test::barsData(bars);
    QCOMPARE(int(shown.size()), h.spec.bins);
    QCOMPARE(bars->width(), h.binWidth());
    for (int i = 0; i < h.spec.bins; ++i) {
        QCOMPARE(shown[i].first, h.center(i));
        QCOMPARE(shown[i].second, double(h.counts[i]));
    }
}
}  // namespace

class MainWindowTest : public QObject {
    Q_OBJECT
    std::unique_ptr<MainWindow> m_window;
    Model m_model;

    MainWindow& window() { return *m_window; }
    void setSettings(double alpha, double rho) {
        WorkbenchSettings s = window().settings();
        s.plan.defaults.quant.alpha = float(alpha);
        s.plan.defaults.prune.rho = float(rho);
        window().settingsOwner()->editAll(s, "test");
    }
    static float alphaOf(const WorkbenchSettings& s) { return s.plan.defaults.quant.alpha; }

private slots:
    void initTestCase() {
        test::isolateSettings();
        m_model = loadModel(test::fixture(kModel));
        m_window = std::make_unique<MainWindow>();
        m_window->resize(1280, 800);
        m_window->show();
        QSignalSpy ready(m_window.get(), &MainWindow::modelReady);
        m_window->openModel(QString::fromStdString(test::fixture(kModel)));
        QVERIFY(ready.wait(30000));
        CWB_WAIT_IDLE(window(), 60000);
        QVERIFY(window().statusLine()->datasetText().contains("10,000 images"));
    }

    void histogramOnDisplayEqualsCore_data() {
        QTest::addColumn<double>("alpha");
        QTest::addColumn<double>("rho");
        QTest::addColumn<QString>("layer");
        QTest::newRow("off, all layers") << 0.0 << 0.0 << QString();
        QTest::newRow("alpha 0.05, all layers") << 0.05 << 0.0 << QString();
        QTest::newRow("alpha 0.01 rho 0.02, dense_1") << 0.01 << 0.02 << QString("dense_1");
        QTest::newRow("rho 0.05, dense") << 0.0 << 0.05 << QString("dense");
        QTest::newRow("alpha 0.2 rho 0.1, dense_3") << 0.2 << 0.1 << QString("dense_3");
    }
    void histogramOnDisplayEqualsCore() {
        QFETCH(double, alpha);
        QFETCH(double, rho);
        QFETCH(QString, layer);
        setSettings(alpha, rho);
        window().selectLayer(layer);
        CWB_WAIT_IDLE(window(), 60000);
        const TensorStats expected = coreStats(m_model, alpha, rho, layer.toStdString());
        auto* page = window().compressionPage();
        compareBars(page->weightPlot()->originalBars(), expected.original);
        compareBars(page->weightPlot()->compressedBars(), expected.compressed);
        compareBars(page->errorPlot()->bars(), expected.error);
        // Bars in log mode leave out empty bins but keep the others' counts.
        page->setLogCounts(true);
        const auto logBars = test::barsData(page->weightPlot()->compressedBars());
        page->setLogCounts(false);
        long long nonEmpty = 0;
        for (auto c : expected.compressed.counts) nonEmpty += c > 0;
        QCOMPARE(qint64(logBars.size()), qint64(nonEmpty));
        // The layer table and the sparsity readout show the same numbers.
        const QString sparsity = QString::number(expected.sparsity * 100, 'f', 1) + " %";
        QVERIFY2(window().controls()->rhoSlider()->readout().contains(
                     QString::number(coreStats(m_model, alpha, rho, {}).sparsity * 100, 'f', 1)),
                 qPrintable(window().controls()->rhoSlider()->readout()));
        auto* table = window().layers()->table();
        bool found = false;
        for (int row = 0; row < table->rowCount(); ++row)
            if (table->item(row, LayerPanel::Name)->text() ==
                (layer.isEmpty() ? "All layers" : layer)) {
                QCOMPARE(table->item(row, LayerPanel::Sparsity)->text(), sparsity);
                found = true;
            }
        QVERIFY(found);
    }

    void levelsAreDrawnWhenFew() {
        setSettings(0.2, 0.0);
        window().selectLayer({});
        CWB_WAIT_IDLE(window(), 60000);
        const TensorStats s = coreStats(m_model, 0.2, 0.0, {});
        QVERIFY(s.levels <= WeightHistogramPlot::kMaxLevelLines);
        // One line per distinct compressed value.
        QCOMPARE(qint64(window().compressionPage()->weightPlot()->levelLinesShown()),
                 qint64(s.levels));
    }

    void accuracyMatchesTheIndependentFigure() {
        // EXPECTED.md: k2_mlp_dropout_percy.h5 at alpha 0.05, rho 0.05 gives 0.8857 (PyTorch).
        QSignalSpy evaluated(window().controller(), &RecomputeController::evaluated);
        setSettings(0.05, 0.05);
        QTRY_VERIFY_WITH_TIMEOUT(!evaluated.isEmpty(), 60000);
        const auto point = evaluated.last().first().value<EvaluatedPoint>();
        QCOMPARE(point.samples, 10000);
        QVERIFY2(std::abs(point.accuracy - 0.8857) <= 0.0005,
                 qPrintable(QString::number(point.accuracy)));
        QVERIFY(point.latencyMs > 0);
        CWB_WAIT_IDLE(window(), 60000);
        QVERIFY(window().summary()->accuracyText().contains("88.5") ||
                window().summary()->accuracyText().contains("88.6"));
    }

    void sliderStormEndsOnTheLastSetting() {
        QSlider* slider = window().controls()->alphaSlider()->slider();
        QSignalSpy compressed(window().controller(), &RecomputeController::compressed);
        // Hundreds of moves in one burst, then more with the event loop running in between.
        for (int i = 0; i < 300; ++i) slider->setValue(40 + (i * 7) % 300);
        for (int i = 0; i < 200; ++i) {
            slider->setValue(50 + (i * 13) % 300);
            if (i % 10 == 0) QCoreApplication::processEvents();
        }
        const int last = 50 + (199 * 13) % 300;
        const float alpha = float(window().controls()->alphaSlider()->valueAt(last));
        QCOMPARE(alphaOf(window().settings()), alpha);
        CWB_WAIT_IDLE(window(), 60000);
        QCOMPARE(alphaOf(window().controller()->resultSettings()), alpha);
        const TensorStats expected =
            coreStats(m_model, alpha, window().settings().plan.defaults.prune.rho, {});
        compareBars(window().compressionPage()->weightPlot()->compressedBars(),
                    expected.compressed);
        // Coalescing: far fewer compressions than moves, and nothing left behind.
        QVERIFY2(compressed.count() < 100, qPrintable(QString::number(compressed.count())));
        QTRY_COMPARE_WITH_TIMEOUT(LatestWinsLane::liveJobs(), 0, 2000);
        // One drag is one undo step.
        const WorkbenchSettings before = window().settings();
        window().undoStack()->undo();
        QVERIFY(alphaOf(window().settings()) != alphaOf(before));
        window().undoStack()->redo();
        QCOMPARE(alphaOf(window().settings()), alphaOf(before));
        // Undo and redo render into the slider too: it stands where the drag ended.
        QCOMPARE(slider->value(), last);
    }

    void cancellingASweepStopsItQuickly() {
        RecomputeController* c = window().controller();
        QSignalSpy points(c, &RecomputeController::sweepPoint);
        emit window().controls()->sweepRequested(SweepParameter::Alpha);
        QVERIFY(c->isSweeping());
        QTRY_VERIFY_WITH_TIMEOUT(!points.isEmpty(),
                                 60000);  // mid-sweep: one point done, more to come
        QVERIFY(c->isSweeping());
        QElapsedTimer timer;
        timer.start();
        c->cancelSweep();
        QTRY_VERIFY_WITH_TIMEOUT(c->sweepLane().isIdle(), test::timeBoundMs(200));
        QVERIFY2(timer.elapsed() < test::timeBoundMs(200),
                 qPrintable(QString::number(timer.elapsed())));
        const int count = points.count();
        QTest::qWait(300);
        QCOMPARE(points.count(), count);  // nothing arrives after the cancel
    }

    void guiThreadStaysResponsiveDuringASweep() {
        RecomputeController* c = window().controller();
        // Two measures between consecutive 10 ms ticks: the wall-clock gap (what a user
        // feels) and the GUI thread's own CPU time in it (what the window did on it). On a
        // machine busier than its cores the scheduler alone can open wall gaps, so those
        // are enforced only when the load allows; the CPU time is always enforced: core
        // work on the GUI thread would show there whatever the load.
        QElapsedTimer clock;
        qint64 last = 0, worstWall = 0;
        double lastCpu = threadCpuMs(), worstCpu = 0;
        QTimer ticker;
        ticker.setInterval(10);
        connect(&ticker, &QTimer::timeout, [&] {
            const qint64 now = clock.elapsed();
            const double cpu = threadCpuMs();
            worstWall = std::max(worstWall, now - last);
            worstCpu = std::max(worstCpu, cpu - lastCpu);
            last = now;
            lastCpu = cpu;
        });
        QSignalSpy finished(c, &RecomputeController::sweepFinished);
        const CpuTimes cpuBefore = CpuTimes::now();
        clock.start();
        ticker.start();
        emit window().controls()->sweepRequested(SweepParameter::Rho);
        // Slider moves while the sweep runs: the compress and evaluate lanes work too.
        for (int i = 0; i < 20; ++i) {
            QTest::qWait(50);
            window().controls()->rhoSlider()->slider()->setValue(100 + i * 5);
        }
        QTRY_VERIFY_WITH_TIMEOUT(!finished.isEmpty(), 120000);
        ticker.stop();
        // What other processes (a parallel test, say) took of the machine meanwhile.
        const CpuTimes cpuAfter = CpuTimes::now();
        const double wallMs = static_cast<double>(clock.elapsed());
        const double othersShare = std::max(0.0, (cpuAfter.machineMs - cpuBefore.machineMs) -
                                                     (cpuAfter.processMs - cpuBefore.processMs)) /
                                   (wallMs * QThread::idealThreadCount());
        qInfo(
            "longest gap between 10 ms ticks: %lld ms wall, %.1f ms GUI-thread CPU (other "
            "processes used %.0f%% of %d cores)",
            worstWall, worstCpu, othersShare * 100, QThread::idealThreadCount());
        QVERIFY2(worstCpu < test::timeBoundMs(50),
                 qPrintable(QString("the GUI thread worked %1 ms without a break").arg(worstCpu)));
        if (othersShare < 0.1)
            QVERIFY2(worstWall < test::timeBoundMs(50),
                     qPrintable(QString("longest gap between 10 ms ticks: %1 ms").arg(worstWall)));
        else
            qWarning("machine shared with other work: wall-clock gap reported, not enforced");
        QVERIFY(finished.first().first().toBool());
        // The sweep's points are on the accuracy curve.
        CWB_WAIT_IDLE(window(), 60000);
        QVERIFY(window().compressionPage()->metricPlot()->accuracyGraph()->dataCount() >= 10);
    }

    void sensitivityColumnShowsTheCoresFigures() {
        setSettings(0.2, 0.05);
        CWB_WAIT_IDLE(window(), 60000);
        QSignalSpy ready(window().controller(), &RecomputeController::sensitivityReady);
        window().controller()->startSensitivity(1000);
        QTRY_VERIFY_WITH_TIMEOUT(!ready.isEmpty(), 60000);
        CWB_WAIT_IDLE(window(), 60000);
        // The core's own call on the same settings and images, made here.
        const Measurer measurer(std::make_shared<const Model>(m_model),
                                std::make_shared<const Dataset>(
                                    loadFashionMnist(test::datasetDir(), Split::Test, 1000)));
        SensitivityOptions options;
        options.limit = 1000;
        const SensitivityResult expected =
            layerSensitivity(measurer, CompressionPlan::uniform(0.2f, 0.05f), options);
        auto* table = window().layers()->table();
        int checked = 0;
        for (const SensitivityRow& row : expected.rows)
            for (int r = 0; r < table->rowCount(); ++r)
                if (table->item(r, LayerPanel::Name)->text() == QString::fromStdString(row.name)) {
                    const QString text = table->item(r, LayerPanel::Sensitivity)->text();
                    const QString number = QString::number(std::abs(row.drop) * 100, 'f', 2);
                    QVERIFY2(text.contains(number), qPrintable(text + " vs " + number));
                    ++checked;
                }
        QCOMPARE(checked, 4);  // the four Dense layers
    }

    void csvHasOneRowPerEvaluatedSetting() {
        const QString csv = QString::fromStdString(window().history()->table().str());
        const QStringList lines = csv.split('\n', Qt::SkipEmptyParts);
        QCOMPARE(lines.size(), window().history()->points().size() + 1);
        QVERIFY(lines.first().startsWith("alpha,rho,"));
    }

    void brokenModelShowsAMessageAndKeepsTheOldOne() {
        QSignalSpy failed(m_window.get(), &MainWindow::modelFailed);
        window().openModel(QString::fromStdString(test::fixture("k3_tfsmlayer_NEGATIVE.keras")));
        QTRY_VERIFY_WITH_TIMEOUT(!failed.isEmpty(), 30000);
        QVERIFY(failed.first().first().toString().contains("TFSMLayer"));
        QVERIFY(window().controller()->session());  // the previous model stays open
        QVERIFY(window().controller()->session()->path.endsWith(kModel));
    }

    void missingDatasetSaysHowToInstallIt() {
        RecomputeController fresh;
        fresh.setDatasetDir("/nonexistent/fashion-mnist");
        QSignalSpy loaded(&fresh, &RecomputeController::modelLoaded);
        fresh.openModel(QString::fromStdString(test::fixture(kModel)));
        QVERIFY(loaded.wait(30000));
        QVERIFY(!fresh.session()->testData);
        QVERIFY(fresh.session()->dataMessage.contains("dataset-fashion-mnist"));
        QTRY_VERIFY_WITH_TIMEOUT(fresh.result() != nullptr, 30000);  // histograms still come
        QTRY_VERIFY_WITH_TIMEOUT(fresh.isIdle(), 30000);
    }

    void cleanupTestCase() {
        m_window.reset();
        QCOMPARE(LatestWinsLane::liveJobs(), 0);
    }
};

QTEST_MAIN(MainWindowTest)
#include "main_window_test.moc"
