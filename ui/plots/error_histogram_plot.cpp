// Error histogram (see error_histogram_plot.h).
#include "ui/plots/error_histogram_plot.h"

#include "ui/plots/histogram_bars.h"

namespace cwb::ui {

ErrorHistogramPlot::ErrorHistogramPlot(QWidget* parent)
    : HistogramPlot(tr("Compression error"), tr("error W\u2032 \u2212 W"), tr("count"), parent) {
    m_bars = addBars(tr("error"), palette::accent, 170);
    m_summary = addCornerNote(palette::accent.darker(130));
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

void ErrorHistogramPlot::clearData(const QString& message) {
    m_edges.clear();
    m_counts.clear();
    m_summary->setVisible(false);
    rebuild();
    setMessage(message);
}

void ErrorHistogramPlot::rebuild() {
    fillBars(m_bars, m_edges, m_counts, m_log);
    fitAxes(m_edges, {&m_counts});
    queueReplot();
}

}  // namespace cwb::ui
