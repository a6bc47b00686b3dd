// Perplexity (left axis) and KL divergence from the original (right axis) of a language model
// against what a sweep varies: α or ρ on a log axis, or the block formats by their bits per
// weight. The original is a dashed line; the current setting is ringed, with its 95 %
// interval while the perplexity is still partial (chunks < totalChunks).
#pragma once

#include <QVector>

#include "ui/plots/sweep_curve_plot.h"

namespace cwb::ui {

struct LlmCurvePoint {
    double x = 0;  // α, ρ or bits per weight
    double perplexity = 0;
    double kl = -1;  // < 0: not measured
    QString label;   // a block format's name, under its tick
};

struct LlmCurrentPoint {
    bool valid = false;
    double x = 0, perplexity = 0, low = 0, high = 0;
    int chunks = 0, totalChunks = 0;
};

class LlmCurvePlot : public SweepCurvePlot {
    Q_OBJECT
public:
    enum class Axis { Alpha, Rho, Bits };
    explicit LlmCurvePlot(QWidget* parent = nullptr);

    void setCurve(const QVector<LlmCurvePoint>& points, Axis axis);
    void setBaseline(double perplexity);  // < 0: unknown
    void setCurrent(const LlmCurrentPoint& current);
    void clearData(const QString& message);

    QCPGraph* perplexityGraph() const { return m_main; }
    QCPGraph* klGraph() const { return m_second; }

private:
    void updateRanges();
    Axis m_axis = Axis::Alpha;
    double m_baselinePerplexity = -1;
    LlmCurrentPoint m_cur;
    QVector<LlmCurvePoint> m_points;
};

}  // namespace cwb::ui
