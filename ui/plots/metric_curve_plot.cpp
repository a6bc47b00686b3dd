// Accuracy and latency against alpha or rho (see metric_curve_plot.h).
#include "ui/plots/metric_curve_plot.h"

#include <algorithm>

#include "ui/plots/log_ticker.h"
#include "ui/settings/settings_field.h"

namespace cwb::ui {

MetricCurvePlot::MetricCurvePlot(QWidget* parent)
    : SweepCurvePlot({tr("Accuracy and latency"), tr("accuracy (%)"), tr("latency (ms / image)"),
                      tr("accuracy"), tr("latency")},
                     parent) {
    xAxis->setScaleType(QCPAxis::stLogarithmic);
    xAxis->setTicker(QSharedPointer<LogTicker125>::create(xAxis));
    clearData(tr("no model loaded"));
}

void MetricCurvePlot::setCurve(const QVector<EvaluatedPoint>& points, SweepParameter p) {
    m_parameter = p;
    xAxis->setLabel(parameterName(p) + tr(", log scale"));
    QVector<double> x, acc, lat;
    for (const auto& point : points) {
        const double v = sweepValue(point.settings.plan, p);
        if (v <= 0) continue;  // "off" is the baseline line, not a point on a log axis
        x.append(v);
        acc.append(point.accuracy * 100.0);
        lat.append(point.latencyMs);
    }
    m_main->setData(x, acc, true);
    m_second->setData(x, lat, true);
    setTitle(tr("Accuracy and latency vs %1").arg(parameterSymbol(p)));
    if (!points.isEmpty() || m_cur.valid) setMessage({});
    updateRanges();
}

void MetricCurvePlot::setBaseline(double accuracy, double latencyMs) {
    Q_UNUSED(latencyMs);
    m_baselineAccuracy = accuracy;
    showBaseline(accuracy >= 0, accuracy * 100, tr("float32: %1 %").arg(accuracy * 100, 0, 'f', 2));
    updateRanges();
}

void MetricCurvePlot::setCurrent(const CurrentAccuracy& current) {
    m_cur = current;
    m_current->data()->clear();
    m_currentError->data()->clear();
    if (current.valid && current.x > 0) {
        m_current->addData(current.x, current.accuracy * 100);
        m_currentError->setData(QVector<double>{(current.accuracy - current.low) * 100},
                                QVector<double>{(current.high - current.accuracy) * 100});
    }
    if (current.valid) setMessage({});
    updateRanges();
}

void MetricCurvePlot::clearData(const QString& message) {
    clearGraphs();
    m_cur = {};
    setBaseline(-1, -1);
    xAxis->setLabel(parameterName(m_parameter) + tr(", log scale"));
    setMessage(message);
}

void MetricCurvePlot::updateRanges() {
    Extent e = dataExtent();
    if (m_cur.valid && m_cur.x > 0) {
        e.add(m_cur.x, m_cur.low * 100);
        e.add(m_cur.x, m_cur.high * 100);
    }
    if (m_baselineAccuracy >= 0) e.addY(m_baselineAccuracy * 100);
    if (e.xmax <= 0) {
        e.xmin = m_parameter == SweepParameter::Alpha ? 1e-4 : 1e-3;
        e.xmax = 1;
    }
    xAxis->setRange(logAxisRange(e.xmin, e.xmax));
    if (e.ymax < 0) {
        e.ymin = 0;
        e.ymax = 100;
    }
    const double pad = std::max(1.0, 0.08 * (e.ymax - e.ymin));
    yAxis->setRange(std::max(0.0, e.ymin - pad), std::min(100.0, e.ymax + pad));
    finishRanges(e);
}

}  // namespace cwb::ui
