// Accuracy and latency against alpha or rho (see metric_curve_plot.h).
#include "ui/plots/metric_curve_plot.h"

#include <algorithm>
#include <cmath>

#include "ui/plots/log_ticker.h"
#include "ui/settings/settings_field.h"

namespace cwb::ui {

MetricCurvePlot::MetricCurvePlot(QWidget* parent) : PlotBase(tr("Accuracy and latency"), parent) {
    styleAxis(xAxis, {});
    styleAxis(yAxis, tr("accuracy (%)"));
    styleAxis(yAxis2, tr("latency (ms / image)"));
    yAxis2->setVisible(true);
    yAxis2->setLabelColor(palette::secondary);
    yAxis2->setTickLabelColor(palette::secondary);
    yAxis->setLabelColor(palette::compressed.darker(130));
    xAxis->setScaleType(QCPAxis::stLogarithmic);
    xAxis->setTicker(QSharedPointer<LogTicker125>::create(xAxis));

    m_accuracy = addGraph(xAxis, yAxis);
    m_accuracy->setName(tr("accuracy"));
    m_accuracy->setPen(QPen(palette::compressed, 2.2));
    m_accuracy->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssDisc, 7));
    m_latency = addGraph(xAxis, yAxis2);
    m_latency->setName(tr("latency"));
    m_latency->setPen(QPen(palette::secondary, 1.6, Qt::DashLine));
    m_latency->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssSquare, 6));
    m_current = addGraph(xAxis, yAxis);
    m_current->setName(tr("current setting"));
    m_current->setLineStyle(QCPGraph::lsNone);
    m_current->setScatterStyle(
        QCPScatterStyle(QCPScatterStyle::ssCircle, QPen(palette::accent, 2.5), Qt::NoBrush, 15));
    m_currentError = new QCPErrorBars(xAxis, yAxis);
    m_currentError->setDataPlottable(m_current);
    m_currentError->setPen(QPen(palette::accent, 2));
    m_currentError->removeFromLegend();

    m_baseline = new QCPItemStraightLine(this);
    m_baseline->setPen(QPen(palette::original, 1.5, Qt::DashLine));
    m_baseline->setVisible(false);
    m_baselineText = new QCPItemText(this);
    m_baselineText->setPositionAlignment(Qt::AlignLeft | Qt::AlignBottom);
    m_baselineText->position->setTypeX(QCPItemPosition::ptAxisRectRatio);
    m_baselineText->position->setTypeY(QCPItemPosition::ptPlotCoords);
    m_baselineText->setColor(palette::original);
    m_baselineText->setFont(plotFont(-1));
    m_baselineText->setVisible(false);

    placeLegendUnderTitle();
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
    m_accuracy->setData(x, acc, true);
    m_latency->setData(x, lat, true);
    setTitle(tr("Accuracy and latency vs %1").arg(parameterSymbol(p)));
    if (!points.isEmpty() || m_cur.valid) setMessage({});
    updateRanges();
}

void MetricCurvePlot::setBaseline(double accuracy, double latencyMs) {
    Q_UNUSED(latencyMs);
    m_baselineAccuracy = accuracy;
    const bool known = accuracy >= 0;
    m_baseline->setVisible(known);
    m_baselineText->setVisible(known);
    if (known) {
        m_baseline->point1->setCoords(1e-9, accuracy * 100);
        m_baseline->point2->setCoords(1, accuracy * 100);
        m_baselineText->position->setCoords(0.02, accuracy * 100);
        m_baselineText->setText(tr("float32: %1 %").arg(accuracy * 100, 0, 'f', 2));
    }
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
    m_accuracy->data()->clear();
    m_latency->data()->clear();
    m_current->data()->clear();
    m_currentError->data()->clear();
    m_cur = {};
    setBaseline(-1, -1);
    xAxis->setLabel(parameterName(m_parameter) + tr(", log scale"));
    setMessage(message);
}

void MetricCurvePlot::updateRanges() {
    double xmin = 1e300, xmax = 0, amin = 101, amax = -1, lmax = 0;
    auto take = [&](double x, double a) {
        xmin = std::min(xmin, x);
        xmax = std::max(xmax, x);
        amin = std::min(amin, a);
        amax = std::max(amax, a);
    };
    for (auto it = m_accuracy->data()->constBegin(); it != m_accuracy->data()->constEnd(); ++it)
        take(it->key, it->value);
    for (auto it = m_latency->data()->constBegin(); it != m_latency->data()->constEnd(); ++it)
        lmax = std::max(lmax, it->value);
    if (m_cur.valid && m_cur.x > 0) {
        take(m_cur.x, m_cur.low * 100);
        take(m_cur.x, m_cur.high * 100);
    }
    if (m_baselineAccuracy >= 0) {
        amin = std::min(amin, m_baselineAccuracy * 100);
        amax = std::max(amax, m_baselineAccuracy * 100);
    }
    if (xmax <= 0) {
        xmin = m_parameter == SweepParameter::Alpha ? 1e-4 : 1e-3;
        xmax = 1;
    }
    // At least a decade and a half, so the log axis has labelled decades to read from.
    double lo = xmin / 1.6, hi = xmax * 1.6;
    if (hi / lo < 30) {
        const double centre = std::sqrt(lo * hi);
        lo = centre / std::sqrt(30.0);
        hi = centre * std::sqrt(30.0);
    }
    xAxis->setRange(lo, hi);
    if (amax < 0) {
        amin = 0;
        amax = 100;
    }
    const double pad = std::max(1.0, 0.08 * (amax - amin));
    yAxis->setRange(std::max(0.0, amin - pad), std::min(100.0, amax + pad));
    yAxis2->setRange(0, lmax > 0 ? lmax * 1.25 : 1);
    queueReplot();
}

}  // namespace cwb::ui
