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
    const auto& points = history.points();
    QVector<double> x, y, fx, fy;
    double xmax = 0, amin = 100, amax = 0;
    for (const auto& p : points) {
        x.append(p.sizeBytes / 1024.0);
        y.append(p.accuracy * 100);
        xmax = std::max(xmax, p.sizeBytes / 1024.0);
        amin = std::min(amin, p.accuracy * 100);
        amax = std::max(amax, p.accuracy * 100);
    }
    m_all->setData(x, y);  // unsorted on purpose: dots, no line
    for (int i : history.paretoFront()) {
        fx.append(points[i].sizeBytes / 1024.0);
        fy.append(points[i].accuracy * 100);
    }
    m_front->setData(fx, fy, true);
    m_current->data()->clear();
    if (current >= 0 && current < points.size())
        m_current->addData(points[current].sizeBytes / 1024.0, points[current].accuracy * 100);
    if (m_floatLine->visible()) xmax = std::max(xmax, m_floatLine->point1->key());
    if (!points.isEmpty()) {
        setMessage({});
        xAxis->setRange(0, xmax * 1.08);
        const double pad = std::max(1.0, 0.1 * (amax - amin));
        yAxis->setRange(std::max(0.0, amin - pad), std::min(100.0, amax + pad));
    }
    queueReplot();
}

void ParetoPlot::setFloatSize(double bytes) {
    m_floatLine->setVisible(bytes > 0);
    m_floatLine->point1->setCoords(bytes / 1024.0, 0);
    m_floatLine->point2->setCoords(bytes / 1024.0, 1);
    queueReplot();
}

void ParetoPlot::clearData(const QString& message) {
    m_all->data()->clear();
    m_front->data()->clear();
    m_current->data()->clear();
    xAxis->setRange(0, 1);
    yAxis->setRange(0, 100);
    setMessage(message);
}

}  // namespace cwb::ui
