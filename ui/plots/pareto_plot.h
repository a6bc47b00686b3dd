// Accuracy against compressed size over everything tried: each evaluated setting is a dot,
// the Pareto front (nothing smaller is more accurate) is a step line, the current setting
// is ringed.
#pragma once

#include "ui/plots/plot_base.h"
#include "ui/settings/evaluation_history.h"

namespace cwb::ui {

class ParetoPlot : public PlotBase {
    Q_OBJECT
public:
    explicit ParetoPlot(QWidget* parent = nullptr);

    // `current` < 0: no current point among `history`.
    void setPoints(const EvaluationHistory& history, int current);
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
};

}  // namespace cwb::ui
