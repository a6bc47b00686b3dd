// Bars, corner notes and count axes of the histogram plots (see histogram_bars.h).
#include "ui/plots/histogram_bars.h"

#include <QCoreApplication>
#include <algorithm>

namespace cwb::ui {

HistogramPlot::HistogramPlot(const QString& title, const QString& xLabel, const QString& countLabel,
                             QWidget* parent)
    : PlotBase(title, parent), m_countLabel(countLabel) {
    styleAxis(xAxis, xLabel);
    styleAxis(yAxis, countLabel);
    useCrispBars();
}

QCPBars* HistogramPlot::addBars(const QString& name, const QColor& color, int alpha) {
    auto* bars = new QCPBars(xAxis, yAxis);
    bars->setName(name);
    bars->setPen(Qt::NoPen);
    bars->setBrush(QColor(color.red(), color.green(), color.blue(), alpha));
    return bars;
}

QCPItemText* HistogramPlot::addCornerNote(const QColor& color) {
    auto* note = new QCPItemText(this);
    note->setPositionAlignment(Qt::AlignTop | Qt::AlignLeft);
    note->position->setType(QCPItemPosition::ptAxisRectRatio);
    note->position->setCoords(0.02, 0.03);
    note->setFont(plotFont(-1));
    note->setColor(color);
    note->setBrush(QColor(255, 255, 255, 210));
    note->setPadding({3, 2, 3, 2});
    return note;
}

QCPRange occupiedRange(const std::vector<double>& edges,
                       std::initializer_list<const std::vector<double>*> counts) {
    size_t first = edges.size(), last = 0;
    for (const auto* c : counts)
        for (size_t i = 0; i < c->size() && i + 1 < edges.size(); ++i)
            if ((*c)[i] > 0) {
                first = std::min(first, i);
                last = std::max(last, i);
            }
    if (first > last) return {edges.front(), edges.back()};
    // Two empty bins of margin each side, and symmetric about 0 when the data straddle it.
    const double width = edges[1] - edges[0];
    double lo = edges[first] - 2 * width, hi = edges[last + 1] + 2 * width;
    if (lo < 0 && hi > 0) hi = std::max(-lo, hi), lo = -hi;
    return {std::max(lo, edges.front()), std::min(hi, edges.back())};
}

void fillBars(QCPBars* bars, const std::vector<double>& edges, const std::vector<double>& counts,
              bool log) {
    QVector<QCPBarsData> data;
    const size_t bins = std::min(counts.size(), edges.empty() ? size_t{0} : edges.size() - 1);
    data.reserve(static_cast<int>(bins));
    for (size_t i = 0; i < bins; ++i) {
        if (log && counts[i] <= 0) continue;
        data.append(QCPBarsData(0.5 * (edges[i] + edges[i + 1]), counts[i]));
    }
    bars->data()->set(data, true);
    // Bins are equal width in every histogram core makes; the first one stands for all.
    bars->setWidth(bins ? edges[1] - edges[0] : 1.0);
    bars->setWidthType(QCPBars::wtPlotCoords);
    bars->setBaseValue(log ? 0.5 : 0.0);
}

void fitHistogramAxes(QCPAxis* xAxis, QCPAxis* countAxis, bool log, const QString& label,
                      const std::vector<double>& edges,
                      std::initializer_list<const std::vector<double>*> counts) {
    countAxis->setScaleType(log ? QCPAxis::stLogarithmic : QCPAxis::stLinear);
    if (log)
        countAxis->setTicker(QSharedPointer<QCPAxisTickerLog>::create());
    else
        countAxis->setTicker(QSharedPointer<QCPAxisTicker>::create());
    countAxis->setLabel(
        log ? QCoreApplication::translate("cwb::ui::HistogramPlot", "count (log scale)") : label);
    if (edges.size() < 2) return;
    xAxis->setRange(occupiedRange(edges, counts));
    double top = 1;
    for (const auto* c : counts)
        for (double v : *c) top = std::max(top, v);
    if (log)
        countAxis->setRange(0.5, top * 3);
    else
        countAxis->setRange(0, top * 1.08);
}

}  // namespace cwb::ui
