// The frame of the curve plots against a swept setting (see sweep_curve_plot.h).
#include "ui/plots/sweep_curve_plot.h"

#include <algorithm>
#include <cmath>

namespace cwb::ui {

SweepCurvePlot::SweepCurvePlot(const Names& names, QWidget* parent)
    : PlotBase(names.title, parent) {
    styleAxis(xAxis, {});
    styleAxis(yAxis, names.leftAxis);
    styleAxis(yAxis2, names.rightAxis);
    yAxis2->setVisible(true);
    yAxis2->setLabelColor(palette::secondary);
    yAxis2->setTickLabelColor(palette::secondary);
    yAxis->setLabelColor(palette::compressed.darker(130));

    m_main = addGraph(xAxis, yAxis);
    m_main->setName(names.main);
    m_main->setPen(QPen(palette::compressed, 2.2));
    m_main->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssDisc, 7));
    m_second = addGraph(xAxis, yAxis2);
    m_second->setName(names.second);
    m_second->setPen(QPen(palette::secondary, 1.6, Qt::DashLine));
    m_second->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssSquare, 6));
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
}

void SweepCurvePlot::showBaseline(bool known, double y, const QString& text) {
    m_baseline->setVisible(known);
    m_baselineText->setVisible(known);
    if (!known) return;
    m_baseline->point1->setCoords(1e-9, y);
    m_baseline->point2->setCoords(1, y);
    m_baselineText->position->setCoords(0.02, y);
    m_baselineText->setText(text);
}

void SweepCurvePlot::clearGraphs() {
    m_main->data()->clear();
    m_second->data()->clear();
    m_current->data()->clear();
    m_currentError->data()->clear();
}

QCPRange SweepCurvePlot::logAxisRange(double xmin, double xmax) {
    double lo = xmin / 1.6, hi = xmax * 1.6;
    if (hi / lo < 30) {
        const double centre = std::sqrt(lo * hi);
        lo = centre / std::sqrt(30.0);
        hi = centre * std::sqrt(30.0);
    }
    return {lo, hi};
}

void SweepCurvePlot::Extent::add(double x, double y) {
    xmin = std::min(xmin, x);
    xmax = std::max(xmax, x);
    addY(y);
}

void SweepCurvePlot::Extent::addY(double y) {
    ymin = std::min(ymin, y);
    ymax = std::max(ymax, y);
}

SweepCurvePlot::Extent SweepCurvePlot::dataExtent() const {
    Extent e;
    for (auto it = m_main->data()->constBegin(); it != m_main->data()->constEnd(); ++it)
        e.add(it->key, it->value);
    for (auto it = m_second->data()->constBegin(); it != m_second->data()->constEnd(); ++it)
        e.secondMax = std::max(e.secondMax, it->value);
    return e;
}

void SweepCurvePlot::finishRanges(const Extent& extent) {
    yAxis2->setRange(0, extent.secondMax > 0 ? extent.secondMax * 1.25 : 1);
    queueReplot();
}

}  // namespace cwb::ui
