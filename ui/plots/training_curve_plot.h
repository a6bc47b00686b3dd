// Live curves while a student trains: loss per batch (left axis) and test accuracy per
// evaluation (right axis) against epochs, so a distillation run can be watched and stopped.
#pragma once

#include "ui/plots/plot_base.h"

namespace cwb::ui {

class TrainingCurvePlot : public PlotBase {
    Q_OBJECT
public:
    explicit TrainingCurvePlot(QWidget* parent = nullptr);

    void addLoss(double epoch, double loss);
    void addAccuracy(double epoch, double accuracy);  // fraction
    void setTeacherAccuracy(double accuracy);         // a dashed reference; < 0 hides it
    void clearData(const QString& message);
    QCPGraph* lossGraph() const { return m_loss; }
    QCPGraph* accuracyGraph() const { return m_accuracy; }

private:
    void rescale();
    QCPGraph* m_loss;
    QCPGraph* m_accuracy;
    QCPItemStraightLine* m_teacher;
    QCPItemText* m_teacherText;
};

}  // namespace cwb::ui
