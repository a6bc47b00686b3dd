// Weight histogram with quantization levels and the pruning spike (see weight_histogram_plot.h).
#include "ui/plots/weight_histogram_plot.h"

#include <algorithm>
#include <cmath>

#include "ui/plots/histogram_bars.h"

namespace cwb::ui {

WeightHistogramPlot::WeightHistogramPlot(QWidget* parent)
    : HistogramPlot(tr("Weight histogram"), tr("weight value"), tr("count (weights per bin)"),
                    parent) {
    m_original = addBars(tr("original"), palette::original, 150);
    m_compressed = addBars(tr("compressed"), palette::compressed, 170);
    m_zeroNote = addCornerNote(palette::accent);
    m_zeroNote->setVisible(false);
    m_zeroNote->setTextAlignment(Qt::AlignLeft);

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

    fitAxes(v.edges, {&v.original, &v.compressed});
    queueReplot();
}

}  // namespace cwb::ui
