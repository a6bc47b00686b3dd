// `cwb sweep --png`: the file is a real PNG of the size asked for, with curves drawn inside
// the plot, made with no display and no Qt platform chosen (cwb picks offscreen itself). In a
// build without Qt, --png is refused as unavailable.
#include <QFile>
#include <QImage>
#include <QImageReader>
#include <QtTest>

#include "tests/cli/cli_support.h"

using cwb::test::CliRun;
using cwb::test::datasetPath;
using cwb::test::expectUsageError;
using cwb::test::fixturePath;
using cwb::test::runCwb;
using cwb::test::tempPath;

namespace {

QStringList sweepArgs(const QString& png) {
    return {"sweep",      fixturePath("k2_mlp_dropout_percy.h5"),
            "--param",    "alpha",
            "--from",     "0",
            "--to",       "0.2",
            "--steps",    "5",
            "--limit",    "200",
            "--threads",  "2",
            "--data",     datasetPath(),
            "--png",      png,
            "--png-size", "640x400"};
}

// Neither a display nor a Qt platform: what a batch job on a server has.
QProcessEnvironment headless() {
    QProcessEnvironment environment = QProcessEnvironment::systemEnvironment();
    for (const char* name : {"QT_QPA_PLATFORM", "DISPLAY", "WAYLAND_DISPLAY"})
        environment.remove(name);
    return environment;
}

#ifdef CWB_PNG_PLOTS
// Pixels of a clear colour (saturated, not grey text, frame or grid): curves and markers.
int colouredPixels(const QImage& image, const QRect& area) {
    int count = 0;
    for (int y = area.top(); y <= area.bottom(); ++y)
        for (int x = area.left(); x <= area.right(); ++x) {
            const QColor c = image.pixelColor(x, y);
            if (c.hsvSaturation() > 120 && c.value() > 80) ++count;
        }
    return count;
}
#endif

}  // namespace

class CwbPlotTest : public QObject {
    Q_OBJECT
private slots:
    void sweepDrawsAPng() {
        const QString png = tempPath("plot_sweep.png");
        QFile::remove(png);
        const CliRun run = runCwb(sweepArgs(png), 300000, headless());
#ifdef CWB_PNG_PLOTS
        QVERIFY2(run.exitCode == 0, run.err.constData());
        QVERIFY2(run.err.isEmpty(), run.err.constData());        // Qt's notes are not the user's
        QVERIFY(run.out.startsWith("alpha,accuracy,sparsity"));  // and the table still printed

        // What the file's header says, by Qt's own PNG reader.
        QImageReader reader(png);
        QCOMPARE(reader.format(), QByteArray("png"));
        QCOMPARE(reader.size(), QSize(640, 400));
        const QImage image = reader.read();
        QVERIFY2(!image.isNull(), qPrintable(reader.errorString()));
        QCOMPARE(image.size(), QSize(640, 400));

        // The plot area, well inside the margins for title, legend and axis labels, holds the
        // two curves: coloured pixels, and of both colours (blue accuracy, orange sparsity).
        const QRect inner(image.width() / 5, image.height() / 4, image.width() * 3 / 5,
                          image.height() / 2);
        QVERIFY2(colouredPixels(image, inner) > 300,
                 qPrintable(QString::number(colouredPixels(image, inner))));
        int blue = 0, orange = 0;
        for (int y = 0; y < image.height(); ++y)
            for (int x = 0; x < image.width(); ++x) {
                const QColor c = image.pixelColor(x, y);
                if (c.hsvSaturation() < 120 || c.value() < 80) continue;
                const int hue = c.hsvHue();
                blue += hue > 190 && hue < 230;
                orange += hue > 15 && hue < 40;
            }
        QVERIFY2(blue > 200 && orange > 200, qPrintable(QString("%1 %2").arg(blue).arg(orange)));
        // Most of the image is background: a plot, not a smear.
        QVERIFY(colouredPixels(image, image.rect()) < image.width() * image.height() / 10);
#else
        expectUsageError(run, "sweep", "option --png is unavailable in this build");
        QVERIFY(!QFile::exists(png));
#endif
    }

    void badPngSizeIsAUsageError() {
        QStringList args = sweepArgs(tempPath("never.png"));
        args.last() = "640by400";
        expectUsageError(runCwb(args), "sweep", "option --png-size: expects WIDTHxHEIGHT");
        args.last() = "64x40";
        expectUsageError(runCwb(args), "sweep", "100..10000 pixels each, got '64x40'");
        QVERIFY(!QFile::exists(tempPath("never.png")));
    }
};

QTEST_GUILESS_MAIN(CwbPlotTest)
#include "cwb_plot_test.moc"
