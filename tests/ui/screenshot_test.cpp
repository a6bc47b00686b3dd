// `compression-workbench --screenshot` as a user runs it: on the bundled default model
// (or a fixture while none is bundled) it must exit 0 and write a 1280x800 PNG whose plots
// are drawn (bars and curves in the plot areas, many distinct colours); on a bad model it
// must fail with a message instead of hanging. The window is drawn both offscreen and on a
// real X server under Xvfb (xvfb-run), the way `make run` shows it on a headless machine.
#include <QImage>
#include <QProcess>
#include <QSet>
#include <QStandardPaths>
#include <QtTest>

#include "tests/support/test_paths.h"
#include "ui/window/app_paths.h"

namespace {

struct Run {
    int code = -1;
    QString out, err;
};

// Offscreen: Qt draws without any display. Xvfb: a real X server in memory, through
// xvfb-run (Debian's xvfb, which `make deps` installs), as `make run` uses on a headless machine.
enum class Backend { Offscreen, Xvfb };

Run runWorkbench(const QStringList& args, int timeoutMs = 240000,
                 Backend backend = Backend::Offscreen) {
    QProcess p;
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    const QString binary = QString::fromStdString(cwb::test::binary("compression-workbench"));
    if (backend == Backend::Xvfb) {
        env.insert("QT_QPA_PLATFORM", "xcb");
        env.remove("DISPLAY");
        p.setProcessEnvironment(env);
        p.start("xvfb-run", QStringList{"-a", binary} + args);
    } else {
        env.insert("QT_QPA_PLATFORM", "offscreen");
        p.setProcessEnvironment(env);
        p.start(binary, args);
    }
    if (!p.waitForFinished(timeoutMs)) {
        p.kill();
        p.waitForFinished();
    }
    return {p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1,
            QString::fromLocal8Bit(p.readAllStandardOutput()),
            QString::fromLocal8Bit(p.readAllStandardError())};
}

// Pixels in a region (fractions of the image) for which `match` holds.
template <class F>
int countPixels(const QImage& image, QRectF fraction, F match) {
    const QRect r(int(fraction.x() * image.width()), int(fraction.y() * image.height()),
                  int(fraction.width() * image.width()), int(fraction.height() * image.height()));
    int n = 0;
    for (int y = r.top(); y <= r.bottom(); ++y)
        for (int x = r.left(); x <= r.right(); ++x) n += match(QColor(image.pixel(x, y)));
    return n;
}

bool orangeBar(const QColor& c) {
    return c.red() > 200 && c.green() > 110 && c.green() < 200 && c.blue() < 140;
}
bool blueBar(const QColor& c) { return c.blue() > 180 && c.red() < 180 && c.green() < 215; }
bool orangeLine(const QColor& c) {
    return c.red() > 190 && c.green() > 80 && c.green() < 160 && c.blue() < 80;
}

QString modelArgument() {
    const QString bundled = cwb::ui::defaultModelPath();
    return bundled.isEmpty() ? QString::fromStdString(cwb::test::fixture("k2_mlp_dropout_percy.h5"))
                             : bundled;
}

}  // namespace

Q_DECLARE_METATYPE(Backend)

class ScreenshotTest : public QObject {
    Q_OBJECT
private slots:
    void rendersTheWindowWithComputedPlots_data() {
        QTest::addColumn<Backend>("backend");
        QTest::newRow("offscreen") << Backend::Offscreen;
        QTest::newRow("Xvfb") << Backend::Xvfb;
    }
    void rendersTheWindowWithComputedPlots() {
        QFETCH(Backend, backend);
        if (backend == Backend::Xvfb && QStandardPaths::findExecutable("xvfb-run").isEmpty())
            QFAIL("xvfb-run is missing: `make deps` installs Debian's xvfb");
        const QString png = QString::fromStdString(cwb::test::tempDir()) + "/window-" +
                            QTest::currentDataTag() + ".png";
        const Run run = runWorkbench({"--screenshot", png, "--model", modelArgument(), "--alpha",
                                      "0.05", "--rho", "0.02", "--sweep"},
                                     240000, backend);
        QVERIFY2(run.code == 0, qPrintable(run.err));
        QVERIFY(run.out.contains("wrote"));
        QImage image(png);
        QVERIFY(!image.isNull());
        QCOMPARE(image.size(), QSize(1280, 800));
        // Weight histogram (upper middle): both bar series, well beyond what legend swatches
        // and labels alone give (about 200 pixels of each colour, measured without bars).
        const QRectF histogram(0.27, 0.05, 0.45, 0.35);
        const int orange = countPixels(image, histogram, orangeBar),
                  blue = countPixels(image, histogram, blueBar);
        qInfo("histogram region: %d compressed-bar pixels, %d original-bar pixels", orange, blue);
        QVERIFY2(orange > 800, "no compressed bars in the weight histogram");
        QVERIFY2(blue > 800, "no original bars in the weight histogram");
        // Accuracy vs alpha (lower middle): the swept curve.
        const QRectF curve(0.27, 0.38, 0.33, 0.35);
        const int line = countPixels(image, curve, orangeLine);
        qInfo("accuracy plot region: %d curve pixels", line);
        QVERIFY2(line > 300, "no accuracy curve");
        // A drawn window, not a blank or single-colour one.
        QSet<QRgb> colours;
        for (int y = 0; y < image.height(); y += 2)
            for (int x = 0; x < image.width(); x += 2) colours.insert(image.pixel(x, y));
        QVERIFY2(colours.size() > 200, qPrintable(QString::number(colours.size())));
    }

    void failsClearlyOnABadModel() {
        const QString png = QString::fromStdString(cwb::test::tempDir()) + "/bad.png";
        const Run run = runWorkbench(
            {"--screenshot", png, "--model",
             QString::fromStdString(cwb::test::fixture("k3_tfsmlayer_NEGATIVE.keras"))},
            60000);
        QVERIFY(run.code != 0);
        QVERIFY2(run.err.contains("TFSMLayer"), qPrintable(run.err));
        QVERIFY(!QFile::exists(png));
    }

    void rejectsBadNumbers() {
        const Run run = runWorkbench({"--screenshot", "x.png", "--alpha", "abc"}, 30000);
        QCOMPARE(run.code, 2);
        QVERIFY(run.err.contains("--alpha"));
    }
};

QTEST_MAIN(ScreenshotTest)
#include "screenshot_test.moc"
