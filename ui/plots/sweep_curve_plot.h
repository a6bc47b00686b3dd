// What the curve plots against a swept setting share (the window's accuracy and latency, the
// language model's perplexity and KL): a measured quantity on the left axis with a second one
// dashed on the right, the original model as a dashed horizontal line with its label, and the
// current setting ringed with its interval.
#pragma once

#include "ui/plots/plot_base.h"

namespace cwb::ui {

class SweepCurvePlot : public PlotBase {
    Q_OBJECT
public:
    QCPGraph* currentGraph() const { return m_current; }

protected:
    struct Names {
        QString title, leftAxis, rightAxis;  // the plot and its two value axes
        QString main, second;                // the two curves in the legend
    };
    SweepCurvePlot(const Names& names, QWidget* parent);

    // The original's line at height y with `text` at its left end, or hidden.
    void showBaseline(bool known, double y, const QString& text);
    // Empties both curves and the current point with its interval.
    void clearGraphs();
    // A log axis range around [xmin, xmax] (xmin > 0) at least a decade and a half wide, so
    // that it has labelled decades to read from.
    static QCPRange logAxisRange(double xmin, double xmax);

    // What the axes must show: the main curve and what a subclass adds on the left axis
    // (empty: xmax < xmin, ymax < ymin), the second curve's largest value on the right.
    struct Extent {
        double xmin = 1e300, xmax = -1e300, ymin = 1e300, ymax = -1e300;
        double secondMax = 0;
        void add(double x, double y);
        void addY(double y);
    };
    Extent dataExtent() const;
    // The right axis from 0 to a quarter above the second curve's largest value; replots.
    void finishRanges(const Extent& extent);

    QCPGraph* m_main;    // left axis
    QCPGraph* m_second;  // right axis
    QCPGraph* m_current;
    QCPErrorBars* m_currentError;

private:
    QCPItemStraightLine* m_baseline;
    QCPItemText* m_baselineText;
};

}  // namespace cwb::ui
