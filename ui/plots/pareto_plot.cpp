// The Pareto plot (see pareto_plot.h).
#include "ui/plots/pareto_plot.h"

#include <algorithm>

namespace cwb::ui {

ParetoPlot::ParetoPlot(QWidget* parent)
    : PlotBase(tr("Accuracy vs size (everything tried)"), parent) {
    styleAxis(xAxis, tr("compressed size (KiB)"));
    styleAxis(yAxis, tr("accuracy (%)"));
    m_all = addGraph();
    m_all->setName(tr("evaluated setting"));
    m_all->setLineStyle(QCPGraph::lsNone);
    m_all->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssDisc, QColor(120, 120, 120, 160), 6));
    m_front = addGraph();
    m_front->setName(tr("Pareto front"));
    m_front->setLineStyle(QCPGraph::lsStepLeft);
    m_front->setPen(QPen(palette::original, 2.2));
    m_front->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssDisc, palette::original, 7));
    m_current = addGraph();
    m_current->setName(tr("current setting"));
    m_current->setLineStyle(QCPGraph::lsNone);
    m_current->setScatterStyle(
        QCPScatterStyle(QCPScatterStyle::ssCircle, QPen(palette::accent, 2.5), Qt::NoBrush, 15));
    m_floatLine = new QCPItemStraightLine(this);
    m_floatLine->setPen(QPen(palette::muted, 1.2, Qt::DashLine));
    m_floatLine->setVisible(false);
    placeLegendUnderTitle();
    clearData(tr("no model loaded"));
}

void ParetoPlot::setPoints(const EvaluationHistory& history, int current) {
    ParetoSeries series;
    for (const auto& p : history.points()) {
        series.sizes.append(p.sizeBytes);
        series.values.append(p.accuracy * 100);
    }
    series.front = history.paretoFront();
    series.current = current;
    setSeries(series);
}

void ParetoPlot::setSeries(const ParetoSeries& s) {
    QVector<double> x, fx, fy;
    double xmax = 0, vmin = 1e300, vmax = -1e300;
    for (int i = 0; i < s.sizes.size(); ++i) {
        x.append(s.sizes[i] / m_unit);
        xmax = std::max(xmax, x.back());
        vmin = std::min(vmin, s.values[i]);
        vmax = std::max(vmax, s.values[i]);
    }
    m_all->setData(x, s.values);  // unsorted on purpose: dots, no line
    for (int i : s.front) {
        fx.append(x[i]);
        fy.append(s.values[i]);
    }
    m_front->setData(fx, fy, true);
    m_current->data()->clear();
    if (s.current >= 0 && s.current < x.size())
        m_current->addData(x[s.current], s.values[s.current]);
    if (m_floatLine->visible()) xmax = std::max(xmax, m_floatBytes / m_unit);
    if (!x.isEmpty()) {
        setMessage({});
        xAxis->setRange(0, xmax * 1.08);
        if (m_percent) {
            const double pad = std::max(1.0, 0.1 * (vmax - vmin));
            yAxis->setRange(std::max(0.0, vmin - pad), std::min(100.0, vmax + pad));
        } else {
            const double pad = std::max(0.05 * std::abs(vmax), 0.1 * (vmax - vmin));
            yAxis->setRange(vmin - pad, vmax + pad);
        }
    }
    queueReplot();
}

void ParetoPlot::setValueAxis(const QString& title, const QString& label, bool percent) {
    setTitle(title);
    yAxis->setLabel(label);
    m_percent = percent;
}

void ParetoPlot::setSizeUnit(double bytes, const QString& name) {
    m_unit = bytes;
    xAxis->setLabel(tr("compressed size (%1)").arg(name));
    setFloatSize(m_floatBytes);
}

void ParetoPlot::setFloatSize(double bytes) {
    m_floatBytes = bytes;
    m_floatLine->setVisible(bytes > 0);
    m_floatLine->point1->setCoords(bytes / m_unit, 0);
    m_floatLine->point2->setCoords(bytes / m_unit, 1);
    queueReplot();
}

void ParetoPlot::clearData(const QString& message) {
    m_all->data()->clear();
    m_front->data()->clear();
    m_current->data()->clear();
    xAxis->setRange(0, 1);
    yAxis->setRange(0, m_percent ? 100 : 1);
    setMessage(message);
}

}  // namespace cwb::ui
