// Error histogram (see error_histogram_plot.h).
#include "ui/plots/error_histogram_plot.h"

#include <algorithm>

#include "ui/plots/weight_histogram_plot.h"

namespace cwb::ui {

ErrorHistogramPlot::ErrorHistogramPlot(QWidget* parent)
    : PlotBase(tr("Compression error"), parent) {
    styleAxis(xAxis, tr("error W\u2032 \u2212 W"));
    styleAxis(yAxis, tr("count"));
    useCrispBars();
    m_bars = new QCPBars(xAxis, yAxis);
    m_bars->setName(tr("error"));
    m_bars->setPen(Qt::NoPen);
    m_bars->setBrush(
        QColor(palette::accent.red(), palette::accent.green(), palette::accent.blue(), 170));
    m_summary = new QCPItemText(this);
    m_summary->setPositionAlignment(Qt::AlignTop | Qt::AlignLeft);
    m_summary->position->setType(QCPItemPosition::ptAxisRectRatio);
    m_summary->position->setCoords(0.02, 0.03);
    m_summary->setFont(plotFont(-1));
    m_summary->setColor(palette::accent.darker(130));
    m_summary->setBrush(QColor(255, 255, 255, 210));
    m_summary->setPadding({3, 2, 3, 2});
    clearData(tr("no model loaded"));
}

void ErrorHistogramPlot::setHistogram(const std::vector<double>& edges,
                                      const std::vector<double>& counts, const QString& summary) {
    m_edges = edges;
    m_counts = counts;
    m_summary->setText(summary);
    m_summary->setVisible(!summary.isEmpty());
    setMessage({});
    rebuild();
}

void ErrorHistogramPlot::setLogCounts(bool log) {
    if (m_log == log) return;
    m_log = log;
    rebuild();
}

void ErrorHistogramPlot::clearData(const QString& message) {
    m_edges.clear();
    m_counts.clear();
    m_summary->setVisible(false);
    rebuild();
    setMessage(message);
}

void ErrorHistogramPlot::rebuild() {
    fillBars(m_bars, m_edges, m_counts, m_log);
    yAxis->setScaleType(m_log ? QCPAxis::stLogarithmic : QCPAxis::stLinear);
    if (m_log)
        yAxis->setTicker(QSharedPointer<QCPAxisTickerLog>::create());
    else
        yAxis->setTicker(QSharedPointer<QCPAxisTicker>::create());
    yAxis->setLabel(m_log ? tr("count (log scale)") : tr("count"));
    if (m_edges.size() >= 2) {
        xAxis->setRange(occupiedRange(m_edges, {&m_counts}));
        double top = 1;
        for (double c : m_counts) top = std::max(top, c);
        if (m_log)
            yAxis->setRange(0.5, top * 3);
        else
            yAxis->setRange(0, top * 1.08);
    }
    queueReplot();
}

}  // namespace cwb::ui
