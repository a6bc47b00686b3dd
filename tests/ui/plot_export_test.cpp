// Saving plots (right-click "Save plot", File > Export > plots) goes through the core's atomic
// writer: the file is a complete PNG or PDF, a failed save leaves what was there and no
// temporary file behind, and plots with the same title get distinct names.
#include <QDir>
#include <QFile>
#include <QImage>
#include <QtTest>

#include "tests/support/test_paths.h"
#include "ui/plots/plot_base.h"
#include "ui/window/exporter.h"

using cwb::ui::PlotBase;

namespace {

QByteArray head(const QString& path, int bytes) {
    QFile f(path);
    return f.open(QIODevice::ReadOnly) ? f.read(bytes) : QByteArray();
}

// A plot with something on it.
void fill(PlotBase& plot) {
    QCPGraph* graph = plot.addGraph();
    graph->setData({0, 1, 2, 3}, {0.1, 0.5, 0.4, 0.9});
    plot.rescaleAxes();
}

}  // namespace

class PlotExportTest : public QObject {
    Q_OBJECT
private slots:
    void savesPngAndPdf() {
        const QDir dir(QString::fromStdString(cwb::test::tempDir()) + "/save");
        QVERIFY(dir.mkpath("."));
        PlotBase plot("Accuracy: all layers");
        fill(plot);
        const QString png = dir.filePath("plot.png"), pdf = dir.filePath("plot.pdf");
        QVERIFY(plot.saveTo(png, 400, 300));
        QCOMPARE(head(png, 8), QByteArray("\x89PNG\r\n\x1a\n", 8));
        QCOMPARE(QImage(png).size(), QSize(800, 600));  // twice the size, for sharp print
        QVERIFY(plot.saveTo(pdf, 400, 300));
        QCOMPARE(head(pdf, 5), QByteArray("%PDF-"));
        // Nothing else in the folder: the temporary files were renamed, not left behind.
        QCOMPARE(dir.entryList(QDir::Files | QDir::Hidden), (QStringList{"plot.pdf", "plot.png"}));
    }

    void failedSaveKeepsWhatWasThere() {
        const QDir dir(QString::fromStdString(cwb::test::tempDir()) + "/fail");
        QVERIFY(dir.mkpath("folder.png"));
        PlotBase plot("Accuracy");
        fill(plot);
        // A folder where the file should go, and a folder that does not exist.
        QVERIFY(!plot.saveTo(dir.filePath("folder.png")));
        QVERIFY(QFileInfo(dir.filePath("folder.png")).isDir());
        QVERIFY(!plot.saveTo(dir.filePath("missing/plot.png")));
        QVERIFY(!QFile::exists(dir.filePath("missing")));
        QCOMPARE(dir.entryList(QDir::Files | QDir::Hidden), QStringList{});
    }

    void exportNamesEachPlot() {
        const QString dir = QString::fromStdString(cwb::test::tempDir()) + "/export";
        QVERIFY(QDir().mkpath(dir));
        PlotBase a("Weight histogram: dense_1"), b("Weight histogram: dense_2"), c("Pareto");
        for (PlotBase* p : {&a, &b, &c}) fill(*p);
        QString error;
        const QStringList written = cwb::ui::savePlots({&a, &b, &c}, dir, "png", &error);
        QVERIFY2(error.isEmpty(), qPrintable(error));
        QCOMPARE(written, (QStringList{dir + "/weight-histogram.png",
                                       dir + "/weight-histogram2.png", dir + "/pareto.png"}));
        QCOMPARE(QDir(dir).entryList(QDir::Files | QDir::Hidden),
                 (QStringList{"pareto.png", "weight-histogram.png", "weight-histogram2.png"}));
    }
};

QTEST_MAIN(PlotExportTest)
#include "plot_export_test.moc"
