// What the histogram plots (weights, compression error) share: counts on a linear or log
// axis (HistogramPlot), bars on the core's bin edges, a note in the plot's top-left corner.
#pragma once

#include <initializer_list>
#include <vector>

#include "ui/plots/plot_base.h"

namespace cwb::ui {

// Fills `bars` with one bar per bin (key = bin centre, width = bin width). In log mode
// empty bins are left out: they have no place on a log axis.
void fillBars(QCPBars* bars, const std::vector<double>& edges, const std::vector<double>& counts,
              bool log);
// The x range that holds every non-empty bin of `counts`, with a small margin.
QCPRange occupiedRange(const std::vector<double>& edges,
                       std::initializer_list<const std::vector<double>*> counts);

// The count axis linear or log, labelled `label` when linear and "count (log scale)" when
// log; with at least one bin, its range is fitted to the highest count of `counts` and the
// x axis to the occupied bins.
void fitHistogramAxes(QCPAxis* xAxis, QCPAxis* countAxis, bool log, const QString& label,
                      const std::vector<double>& edges,
                      std::initializer_list<const std::vector<double>*> counts);

// A histogram plot whose counts can go on a log axis; a subclass redraws in rebuild().
class HistogramPlot : public PlotBase {
    Q_OBJECT
public:
    // Axes labelled `xLabel` and `countLabel` (the count axis's label while linear).
    HistogramPlot(const QString& title, const QString& xLabel, const QString& countLabel,
                  QWidget* parent);

    void setLogCounts(bool log) {
        if (m_log == log) return;
        m_log = log;
        rebuild();
    }
    bool logCounts() const { return m_log; }

protected:
    // New bars: no outline, `color` at opacity `alpha` (0-255), in the legend as `name`.
    QCPBars* addBars(const QString& name, const QColor& color, int alpha);
    // A text item at the top-left of the axis rect on a translucent white box, in `color`.
    QCPItemText* addCornerNote(const QColor& color);
    virtual void rebuild() = 0;
    // The count axis linear or log and, with at least one bin, both axes fitted to the
    // occupied bins of `counts` (see fitHistogramAxes).
    void fitAxes(const std::vector<double>& edges,
                 std::initializer_list<const std::vector<double>*> counts) {
        fitHistogramAxes(xAxis, yAxis, m_log, m_countLabel, edges, counts);
    }
    bool m_log = false;

private:
    QString m_countLabel;
};

}  // namespace cwb::ui
