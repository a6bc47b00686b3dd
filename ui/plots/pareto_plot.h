// A measure of quality against compressed size over everything tried: each evaluated setting
// is a dot, the Pareto front (nothing smaller is better) is a step line, the current setting
// is ringed. Accuracy (%) of Keras models by default; any other measure (a language model's
// perplexity) through setValueAxis and setSeries.
#pragma once

#include "ui/plots/plot_base.h"
#include "ui/settings/evaluation_history.h"

namespace cwb::ui {

// The points in the value axis' units and sizes in bytes; `front` as paretoFrontOf gives it.
struct ParetoSeries {
    QVector<double> sizes, values;
    QVector<int> front;
    int current = -1;  // < 0: no current point
};

class ParetoPlot : public PlotBase {
    Q_OBJECT
public:
    explicit ParetoPlot(QWidget* parent = nullptr);

    // `current` < 0: no current point among `history`.
    void setPoints(const EvaluationHistory& history, int current);
    void setSeries(const ParetoSeries& series);
    // The plot's title and value axis; a percentage axis is kept within 0..100.
    void setValueAxis(const QString& title, const QString& label, bool percent);
    // Sizes are shown in units of `bytes` named `name` (KiB by default).
    void setSizeUnit(double bytes, const QString& name);
    void setFloatSize(
        double bytes);  // the uncompressed model's size, as a reference line; <= 0 hides it
    void clearData(const QString& message);

    QCPGraph* allPoints() const { return m_all; }
    QCPGraph* front() const { return m_front; }

private:
    QCPGraph* m_all;
    QCPGraph* m_front;
    QCPGraph* m_current;
    QCPItemStraightLine* m_floatLine;
    bool m_percent = true;
    double m_unit = 1024.0;
    double m_floatBytes = 0.0;
};

}  // namespace cwb::ui
