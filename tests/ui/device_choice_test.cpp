// The window's Device box drives where its jobs run (ui/window/device_choice.h): choosing
// "cpu" runs the compression and the measurements on the backend named "cpu"; choosing CUDA
// on a build without it shows the core's one-line fallback note in the status line and the
// results still arrive (from the CPU); the choice is remembered in QSettings and restored
// by the next window. Real backends and the real MLP fixture, no mocks.
#include <QComboBox>
#include <QtTest>

#include "core/backend/backend.h"
#include "tests/ui/ui_test_support.h"
#include "ui/panels/controls_panel.h"
#include "ui/window/status_line.h"

using namespace cwb;
using namespace cwb::ui;

namespace {

const char* kModel = "k2_mlp_dropout_percy.h5";
// The core's words for a CUDA device on a build without CUDA (backend.h's example).
const char* kCudaNote = "cuda: not available (this build has no CUDA backend); running on the CPU";

bool cudaAvailable() {
    for (const DeviceInfo& d : listDevices())
        if (d.name.rfind("cuda", 0) == 0 && d.available) return true;
    return false;
}

void choose(MainWindow& window, const QString& device) {
    QComboBox* box = window.controls()->deviceBox();
    const int index = box->findData(device);
    QVERIFY2(index >= 0, qPrintable("no Device entry " + device));
    box->setCurrentIndex(index);
}

// Opens the fixture and waits for its first compression and its final accuracy.
void openAndWait(MainWindow& window) {
    QSignalSpy ready(&window, &MainWindow::modelReady);
    QSignalSpy evaluated(window.controller(), &RecomputeController::evaluated);
    window.openModel(QString::fromStdString(test::fixture(kModel)));
    QVERIFY(ready.wait(30000));
    QTRY_VERIFY_WITH_TIMEOUT(evaluated.count() > 0, 60000);
    CWB_WAIT_IDLE(window, 60000);
}

// Where the open model's jobs ran: the session's backend (the compressions' CompressOptions
// take it) and its measurer's (accuracy, sweeps, sensitivity).
void checkRanOn(const MainWindow& window, const std::string& backend) {
    const auto session = window.controller()->session();
    QVERIFY(session && session->backend && session->measurer);
    QCOMPARE(session->backend->name(), backend);
    QVERIFY(session->measurer->options().backend);
    QCOMPARE(session->measurer->options().backend->name(), backend);
    QVERIFY(window.controller()->result());
}

}  // namespace

class DeviceChoiceTest : public QObject {
    Q_OBJECT
private slots:
    void initTestCase() { test::isolateSettings(); }

    void cudaWithoutCudaFallsBackWithNote() {
        if (cudaAvailable()) QSKIP("this build runs CUDA: there is no fallback to show");
        MainWindow window;
        window.show();
        choose(window, "cuda");
        QCOMPARE(window.statusLine()->deviceText(), QString(kCudaNote));
        QCOMPARE(QSettings().value("device").toString(), QString("cuda"));
        openAndWait(window);
        checkRanOn(window, "cpu");
        QCOMPARE(window.statusLine()->deviceText(), QString(kCudaNote));
    }

    // Runs after the case above: the remembered CUDA choice comes back, then "cpu" is chosen
    // with a model open, which is measured again.
    void cpuRunsOnCpuAndIsRemembered() {
        MainWindow window;
        window.show();
        if (!cudaAvailable()) {
            QCOMPARE(window.controls()->deviceBox()->currentData().toString(), QString("cuda"));
            QCOMPARE(window.statusLine()->deviceText(), QString(kCudaNote));
        }
        openAndWait(window);
        QSignalSpy evaluated(window.controller(), &RecomputeController::evaluated);
        choose(window, "cpu");
        QCOMPARE(window.statusLine()->deviceText(), QString("cpu"));
        QCOMPARE(QSettings().value("device").toString(), QString("cpu"));
        if (cudaAvailable()) QTRY_VERIFY_WITH_TIMEOUT(evaluated.count() > 0, 60000);
        CWB_WAIT_IDLE(window, 60000);
        checkRanOn(window, "cpu");

        MainWindow next;
        QCOMPARE(next.controls()->deviceBox()->currentData().toString(), QString("cpu"));
        QCOMPARE(next.controller()->device(), QString("cpu"));
    }
};

QTEST_MAIN(DeviceChoiceTest)
#include "device_choice_test.moc"
