// Accuracy (left axis) and measured latency (right axis) against the active parameter,
// alpha or rho: every evaluated setting on the current curve is a point, a sweep fills the
// curve in, the float32 model is a dashed baseline and the current setting is ringed, with
// its confidence interval while the accuracy is still partial.
#pragma once

#include <QVector>

#include "ui/plots/sweep_curve_plot.h"
#include "ui/settings/evaluation_history.h"

namespace cwb::ui {

struct CurrentAccuracy {
    double x = 0.0;                // the parameter value (0 = off)
    double accuracy = 0.0;         // fraction
    double low = 0.0, high = 0.0;  // confidence interval, fraction
    int samples = 0, total = 0;    // evaluated so far / planned
    bool valid = false;
};

class MetricCurvePlot : public SweepCurvePlot {
    Q_OBJECT
public:
    explicit MetricCurvePlot(QWidget* parent = nullptr);

    void setCurve(const QVector<EvaluatedPoint>& points, SweepParameter p);
    void setBaseline(double accuracy, double latencyMs);  // negative: unknown
    void setCurrent(const CurrentAccuracy& current);
    void clearData(const QString& message);

    QCPGraph* accuracyGraph() const { return m_main; }
    QCPGraph* latencyGraph() const { return m_second; }

private:
    void updateRanges();
    SweepParameter m_parameter = SweepParameter::Alpha;
    double m_baselineAccuracy = -1;
    CurrentAccuracy m_cur;
};

}  // namespace cwb::ui
