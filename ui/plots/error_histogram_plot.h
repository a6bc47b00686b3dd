// The error histogram: how far compression moved each weight (W' - W), as the core bins it,
// with the summary numbers (max |error|, SQNR) in the title.
#pragma once

#include <vector>

#include "ui/plots/histogram_bars.h"

namespace cwb::ui {

class ErrorHistogramPlot : public HistogramPlot {
    Q_OBJECT
public:
    explicit ErrorHistogramPlot(QWidget* parent = nullptr);

    // `summary` is shown in a corner, e.g. "SQNR 32.1 dB\nmax |e| 0.005".
    void setHistogram(const std::vector<double>& edges, const std::vector<double>& counts,
                      const QString& summary);
    void clearData(const QString& message);
    QCPBars* bars() const { return m_bars; }

private:
    void rebuild() override;
    std::vector<double> m_edges, m_counts;
    QCPBars* m_bars;
    QCPItemText* m_summary;
};

}  // namespace cwb::ui
