// The distillation page: the controls on the left, the teacher's soft targets at T on top,
// and the student's live training curves below. Wires the panel and plots to the
// DistillController. T, lambda and the student live in the settings owner, which the
// panel is attached to; the page reads them from there.
#pragma once

#include <QWidget>

namespace cwb::ui {

class DistillController;
class SettingsOwner;
class DistillPanel;
class TemperaturePlot;
class TrainingCurvePlot;
class PlotBase;
struct EvaluatedPoint;

class DistillationPage : public QWidget {
    Q_OBJECT
public:
    DistillationPage(DistillController* controller, SettingsOwner* settings,
                     QWidget* parent = nullptr);

    // A new teacher was opened; `canTrain` false with `why` when it cannot be one.
    void teacherChanged(bool canTrain, const QString& why);
    void setTeacherAccuracy(double accuracy);
    void startTraining();

    DistillPanel* panel() const { return m_panel; }
    TemperaturePlot* temperaturePlot() const { return m_temperature; }
    TrainingCurvePlot* trainingPlot() const { return m_training; }
    QList<PlotBase*> plots() const;

signals:
    void saveStudentRequested();
    void openStudentRequested();

protected:
    void showEvent(QShowEvent* event) override;

private:
    void requestPreview();
    DistillController* m_controller;
    SettingsOwner* m_settings;
    DistillPanel* m_panel;
    TemperaturePlot* m_temperature;
    TrainingCurvePlot* m_training;
    bool m_previewWanted = true;
};

}  // namespace cwb::ui
