// Distillation's temperature preview: the teacher's soft targets for one sample image at
// temperature T, next to T = 1, as bars per class, with the entropy in the title.
#pragma once

#include <QStringList>
#include <vector>

#include "ui/plots/plot_base.h"

namespace cwb::ui {

class TemperaturePlot : public PlotBase {
    Q_OBJECT
public:
    explicit TemperaturePlot(QWidget* parent = nullptr);

    // Probabilities per class at T and at T = 1 (the teacher's ordinary output);
    // entropies in bits as the core computes them.
    void setSoftTargets(const std::vector<double>& atT, const std::vector<double>& atOne,
                        double temperature, double entropyAtT, double entropyAtOne,
                        const QStringList& classNames, const QString& sample);
    void clearData(const QString& message);
    QCPBars* barsAtT() const { return m_atT; }

private:
    QCPBars* m_atT;
    QCPBars* m_atOne;
    QCPBarsGroup* m_group;
};

}  // namespace cwb::ui
