// The temperature preview (see temperature_plot.h).
#include "ui/plots/temperature_plot.h"

#include <algorithm>

namespace cwb::ui {

TemperaturePlot::TemperaturePlot(QWidget* parent) : PlotBase(tr("Soft targets"), parent) {
    styleAxis(xAxis, tr("class"));
    styleAxis(yAxis, tr("probability"));
    m_group = new QCPBarsGroup(this);
    m_atOne = new QCPBars(xAxis, yAxis);
    m_atOne->setName(tr("T = 1 (hard)"));
    m_atOne->setPen(Qt::NoPen);
    m_atOne->setBrush(
        QColor(palette::original.red(), palette::original.green(), palette::original.blue(), 170));
    m_atOne->setWidth(0.4);
    m_atOne->setBarsGroup(m_group);
    m_atT = new QCPBars(xAxis, yAxis);
    m_atT->setName(tr("at T"));
    m_atT->setPen(Qt::NoPen);
    m_atT->setBrush(QColor(palette::compressed.red(), palette::compressed.green(),
                           palette::compressed.blue(), 200));
    m_atT->setWidth(0.4);
    m_atT->setBarsGroup(m_group);
    placeLegendUnderTitle();
    yAxis->setRange(0, 1.05);
    clearData(tr("no teacher loaded"));
}

void TemperaturePlot::setSoftTargets(const std::vector<double>& atT,
                                     const std::vector<double>& atOne, double temperature,
                                     double entropyAtT, double entropyAtOne,
                                     const QStringList& classNames, const QString& sample) {
    QVector<double> keys, vT, v1;
    auto ticker = QSharedPointer<QCPAxisTickerText>::create();
    for (size_t i = 0; i < atT.size(); ++i) {
        keys.append(double(i));
        vT.append(atT[i]);
        v1.append(i < atOne.size() ? atOne[i] : 0.0);
        ticker->addTick(double(i),
                        i < size_t(classNames.size()) ? classNames[int(i)] : QString::number(i));
    }
    xAxis->setTicker(ticker);
    xAxis->setTickLabelRotation(
        classNames.isEmpty() ? 0 : -30);  // ends at the tick: nothing runs off the right
    xAxis->setRange(-0.6, double(atT.size()) - 0.4);
    m_atT->setData(keys, vT, true);
    m_atOne->setData(keys, v1, true);
    m_atT->setName(
        tr("T = %1 (H = %2 bits)").arg(temperature, 0, 'g', 3).arg(entropyAtT, 0, 'f', 2));
    m_atOne->setName(tr("T = 1 (H = %1 bits)").arg(entropyAtOne, 0, 'f', 2));
    setTitle(tr("Teacher's soft targets for %1").arg(sample));
    setMessage({});
    queueReplot();
}

void TemperaturePlot::clearData(const QString& message) {
    m_atT->data()->clear();
    m_atOne->data()->clear();
    setMessage(message);
}

}  // namespace cwb::ui
