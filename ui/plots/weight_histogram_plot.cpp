// Weight histogram with quantization levels and the pruning spike (see weight_histogram_plot.h).
#include "ui/plots/weight_histogram_plot.h"

#include <algorithm>
#include <cmath>

namespace cwb::ui {

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

WeightHistogramPlot::WeightHistogramPlot(QWidget* parent)
    : PlotBase(tr("Weight histogram"), parent) {
    styleAxis(xAxis, tr("weight value"));
    styleAxis(yAxis, tr("count (weights per bin)"));
    useCrispBars();
    m_original = new QCPBars(xAxis, yAxis);
    m_original->setName(tr("original (float32)"));
    m_original->setPen(Qt::NoPen);
    m_original->setBrush(
        QColor(palette::original.red(), palette::original.green(), palette::original.blue(), 150));
    m_compressed = new QCPBars(xAxis, yAxis);
    m_compressed->setName(tr("compressed"));
    m_compressed->setPen(Qt::NoPen);
    m_compressed->setBrush(QColor(palette::compressed.red(), palette::compressed.green(),
                                  palette::compressed.blue(), 170));

    m_zeroNote = new QCPItemText(this);
    m_zeroNote->setPositionAlignment(Qt::AlignTop | Qt::AlignLeft);
    m_zeroNote->position->setType(QCPItemPosition::ptAxisRectRatio);
    m_zeroNote->position->setCoords(0.02, 0.03);
    m_zeroNote->setFont(plotFont(-1));
    m_zeroNote->setColor(palette::accent);
    m_zeroNote->setVisible(false);
    m_zeroNote->setTextAlignment(Qt::AlignLeft);
    m_zeroNote->setBrush(QColor(255, 255, 255, 210));
    m_zeroNote->setPadding({3, 2, 3, 2});

    legend->setVisible(true);
    axisRect()->insetLayout()->setInsetAlignment(0, Qt::AlignTop | Qt::AlignRight);
    clearData(tr("no model loaded"));
}

void WeightHistogramPlot::setHistogram(const HistogramView& view, const QString& scope) {
    m_view = view;
    setTitle(tr("Weight histogram: %1").arg(scope));
    setMessage({});
    rebuild();
}

void WeightHistogramPlot::setLogCounts(bool log) {
    if (m_log == log) return;
    m_log = log;
    rebuild();
}

void WeightHistogramPlot::clearData(const QString& message) {
    m_view = {};
    rebuild();
    setMessage(message);
}

void WeightHistogramPlot::rebuild() {
    const auto& v = m_view;
    fillBars(m_original, v.edges, v.original, m_log);
    fillBars(m_compressed, v.edges, v.compressed, m_log);
    m_compressed->setVisible(!v.compressed.empty());
    m_compressed->addToLegend();
    if (v.compressed.empty()) m_compressed->removeFromLegend();

    for (auto* line : m_levelLines) removeItem(line);
    m_levelLines.clear();
    if (!v.levels.empty() && v.levels.size() <= static_cast<size_t>(kMaxLevelLines)) {
        const double width = v.edges.size() >= 2 ? v.edges[1] - v.edges[0] : 0.0;
        for (double level : v.levels) {
            // Only levels that some weight takes: the grid can span codes no weight uses.
            if (width > 0 && !v.compressed.empty()) {
                const long bin = std::lround(std::floor((level - v.edges.front()) / width));
                if (bin < 0 || bin >= long(v.compressed.size()) || v.compressed[size_t(bin)] <= 0)
                    continue;
            }
            auto* line = new QCPItemStraightLine(this);
            line->point1->setCoords(level, 0);
            line->point2->setCoords(level, 1);
            line->setPen(QPen(
                QColor(palette::accent.red(), palette::accent.green(), palette::accent.blue(), 110),
                1, Qt::DashLine));
            line->setSelectable(false);
            m_levelLines.push_back(line);
        }
    }

    QString note;
    if (!v.compressed.empty() && v.total > 0) {
        note = tr("exact zeros: %L1 (%2 %)")
                   .arg(v.zeros)
                   .arg(100.0 * double(v.zeros) / double(v.total), 0, 'f', 1);
        if (!v.levelsNote.isEmpty())
            note += QLatin1Char('\n') + v.levelsNote;
        else if (!v.levels.empty())
            note += tr("\ndistinct values: %L1").arg(v.levels.size());
    }
    m_zeroNote->setText(note);
    m_zeroNote->setVisible(!note.isEmpty());

    yAxis->setScaleType(m_log ? QCPAxis::stLogarithmic : QCPAxis::stLinear);
    if (m_log)
        yAxis->setTicker(QSharedPointer<QCPAxisTickerLog>::create());
    else
        yAxis->setTicker(QSharedPointer<QCPAxisTicker>::create());
    yAxis->setLabel(m_log ? tr("count (log scale)") : tr("count (weights per bin)"));

    if (v.edges.size() >= 2) {
        xAxis->setRange(occupiedRange(v.edges, {&v.original, &v.compressed}));
        double top = 1;
        for (double c : v.original) top = std::max(top, c);
        for (double c : v.compressed) top = std::max(top, c);
        if (m_log)
            yAxis->setRange(0.5, top * 3);
        else
            yAxis->setRange(0, top * 1.08);
    }
    queueReplot();
}

}  // namespace cwb::ui
