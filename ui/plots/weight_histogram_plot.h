// The weight histogram: original float32 weights and compressed weights overlaid as bars
// on the core's shared bin edges, with the quantization levels as thin vertical lines when
// there are few of them, and the pruning spike at zero called out.
#pragma once

#include <QString>
#include <vector>

#include "ui/plots/histogram_bars.h"

namespace cwb::ui {

struct HistogramView {
    std::vector<double> edges;       // bins + 1 edges, shared by both series
    std::vector<double> original;    // counts per bin
    std::vector<double> compressed;  // counts per bin; empty: show the original only
    std::vector<double> levels;      // distinct compressed values, when the core reports them
    long long zeros = 0;             // exact zeros in the compressed weights
    long long total = 0;             // weights counted
    // Replaces "distinct values: N" in the note when the levels are not the whole tensor's
    // (a block format's levels of one block).
    QString levelsNote;
};

class WeightHistogramPlot : public HistogramPlot {
    Q_OBJECT
public:
    explicit WeightHistogramPlot(QWidget* parent = nullptr);

    void setHistogram(const HistogramView& view, const QString& scope);
    void clearData(const QString& message);

    // Read back for tests: the bars actually on display.
    QCPBars* originalBars() const { return m_original; }
    QCPBars* compressedBars() const { return m_compressed; }
    int levelLinesShown() const { return static_cast<int>(m_levelLines.size()); }

    // More levels than this are drawn as bars only (lines would fill the plot).
    static constexpr int kMaxLevelLines = 40;

private:
    void rebuild() override;
    HistogramView m_view;
    QCPBars* m_original;
    QCPBars* m_compressed;
    std::vector<QCPItemStraightLine*> m_levelLines;
    QCPItemText* m_zeroNote;
};

}  // namespace cwb::ui
