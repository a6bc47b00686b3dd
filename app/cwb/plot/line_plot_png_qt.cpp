// Line plots drawn by QCustomPlot (see line_plot_png.h), styled as the window's plots by
// ui::PlotBase: its fonts, pens, title and legend row under the title, where the legend never
// hides a curve.
#include <QApplication>
#include <QBuffer>
#include <QPixmap>
#include <clocale>
#include <cstdio>
#include <cstdlib>
#include <memory>

#include "app/cwb/plot/line_plot_png.h"
#include "core/error.h"
#include "core/util/atomic_file.h"
#include "ui/plots/plot_base.h"

namespace cwb::cli {
namespace {

class LineChart : public ui::PlotBase {
public:
    explicit LineChart(const LinePlot& plot) : PlotBase(QString::fromStdString(plot.title)) {
        styleAxis(xAxis, QString::fromStdString(plot.xLabel));
        styleAxis(yAxis, QString::fromStdString(plot.yLabel));
        for (const PlotSeries& series : plot.series) {
            QCPGraph* graph = addGraph();
            graph->setName(QString::fromStdString(series.name));
            const QColor color{QRgb(series.rgb)};
            graph->setPen(QPen(color, 2.0));
            graph->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssDisc, color, color, 7));
            graph->setData(QVector<double>(series.x.begin(), series.x.end()),
                           QVector<double>(series.y.begin(), series.y.end()));
        }
        placeLegendUnderTitle();
        rescaleAxes();
        // Room around the outermost points, so that their markers are not cut by the frame.
        const QCPRange x = xAxis->range();
        const double pad = x.size() > 0 ? x.size() * 0.03 : 0.5;
        xAxis->setRange(x.lower - pad, x.upper + pad);
        if (!std::isnan(plot.yMin) && !std::isnan(plot.yMax)) {
            const double yPad = (plot.yMax - plot.yMin) * 0.03;
            yAxis->setRange(plot.yMin - yPad, plot.yMax + yPad);
        }
    }
};

// Qt messages (a missing XDG_RUNTIME_DIR, the offscreen platform's notes) are not the user's
// business on a command line that promises one line per failure; fatal ones still abort.
void quietQtMessages(QtMsgType type, const QMessageLogContext&, const QString& message) {
    if (type == QtFatalMsg) std::fprintf(stderr, "cwb: Qt: %s\n", qPrintable(message));
}

// The application object QCustomPlot needs, made only when a plot is drawn (commands that
// draw nothing never touch Qt) and gone with the plot; null when one exists already.
std::unique_ptr<QApplication> makeApplication() {
    if (QCoreApplication::instance()) return nullptr;
    // cwb never shows a window: without a platform chosen, draw offscreen, so that a plot
    // needs no display (and a stale DISPLAY cannot abort the run).
    if (!std::getenv("QT_QPA_PLATFORM")) setenv("QT_QPA_PLATFORM", "offscreen", 1);
    qInstallMessageHandler(quietQtMessages);
    static int argc = 1;
    static char name[] = "cwb";
    static char* argv[] = {name, nullptr};
    auto application = std::make_unique<QApplication>(argc, argv);
    // QApplication adopts the user's locale for C functions; cwb prints numbers with a point.
    std::setlocale(LC_NUMERIC, "C");
    return application;
}

}  // namespace

bool pngPlotsAvailable() { return true; }

void writeLinePlotPng(const LinePlot& plot, const std::string& path, int width, int height,
                      const std::string& protectedSource) {
    refuseToOverwriteSource(path, protectedSource);
    const auto application = makeApplication();
    QByteArray png;
    bool drawn = false;
    {
        LineChart chart(plot);  // gone before the application
        const QPixmap pixmap = chart.toPixmap(width, height, 1.0);
        QBuffer buffer(&png);
        drawn =
            !pixmap.isNull() && buffer.open(QIODevice::WriteOnly) && pixmap.save(&buffer, "PNG");
    }
    if (!drawn)
        throw Error(path + ": could not draw the plot as PNG (" + std::to_string(width) + "x" +
                    std::to_string(height) + " pixels)");
    writeBytesAtomically(path, std::string_view(png.constData(), png.size()), protectedSource);
}

}  // namespace cwb::cli
