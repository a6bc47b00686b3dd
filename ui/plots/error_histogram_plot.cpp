// Error histogram (see error_histogram_plot.h).
#include "ui/plots/error_histogram_plot.h"

#include <algorithm>

#include "ui/plots/weight_histogram_plot.h"

namespace cwb::ui {

ErrorHistogramPlot::ErrorHistogramPlot(QWidget* parent) : PlotBase(tr("Compression error"), parent) {
    styleAxis(xAxis, tr("error W\u2032 \u2212 W"));
    styleAxis(yAxis, tr("count"));
    m_bars = new QCPBars(xAxis, yAxis);
    m_bars->setName(tr("error"));
    m_bars->setPen(Qt::NoPen);
    m_bars->setBrush(QColor(palette::accent.red(), palette::accent.green(), palette::accent.blue(), 170));
    clearData(tr("no model loaded"));
}

void ErrorHistogramPlot::setHistogram(const std::vector<double>& edges, const std::vector<double>& counts,
                                      const QString& summary) {
    m_edges = edges;
    m_counts = counts;
    setTitle(summary.isEmpty() ? tr("Compression error") : tr("Compression error: %1").arg(summary));
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
    setTitle(tr("Compression error"));
    rebuild();
    setMessage(message);
}

void ErrorHistogramPlot::rebuild() {
    fillBars(m_bars, m_edges, m_counts, m_log);
    yAxis->setScaleType(m_log ? QCPAxis::stLogarithmic : QCPAxis::stLinear);
    if (m_log) yAxis->setTicker(QSharedPointer<QCPAxisTickerLog>::create());
    else yAxis->setTicker(QSharedPointer<QCPAxisTicker>::create());
    yAxis->setLabel(m_log ? tr("count (log scale)") : tr("count"));
    if (m_edges.size() >= 2) {
        xAxis->setRange(m_edges.front(), m_edges.back());
        double top = 1;
        for (double c : m_counts) top = std::max(top, c);
        if (m_log) yAxis->setRange(0.5, top * 3);
        else yAxis->setRange(0, top * 1.08);
    }
    queueReplot();
}

}  // namespace cwb::ui
