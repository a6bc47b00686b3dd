// The distillation page: the controls on the left, the teacher's soft targets at T on top,
// and the student's live training curves below. Wires the panel and plots to the
// DistillController; settings edits go out through settingsEdited for the undo stack.
#pragma once

#include <QWidget>

#include "ui/settings/compression_settings.h"

namespace cwb::ui {

class DistillController;
class DistillPanel;
class TemperaturePlot;
class TrainingCurvePlot;
class PlotBase;
struct EvaluatedPoint;

class DistillationPage : public QWidget {
    Q_OBJECT
public:
    DistillationPage(DistillController* controller, QWidget* parent = nullptr);

    void setSettings(const CompressionSettings& settings);
    // A new teacher was opened; `canTrain` false with `why` when it cannot be one.
    void teacherChanged(bool canTrain, const QString& why);
    void setTeacherAccuracy(double accuracy);
    void startTraining();

    DistillPanel* panel() const { return m_panel; }
    TemperaturePlot* temperaturePlot() const { return m_temperature; }
    TrainingCurvePlot* trainingPlot() const { return m_training; }
    QList<PlotBase*> plots() const;

signals:
    void settingsEdited(const CompressionSettings& settings, const QString& control);
    void saveStudentRequested();
    void openStudentRequested();

protected:
    void showEvent(QShowEvent* event) override;

private:
    void requestPreview();
    DistillController* m_controller;
    DistillPanel* m_panel;
    TemperaturePlot* m_temperature;
    TrainingCurvePlot* m_training;
    CompressionSettings m_settings;
    bool m_previewWanted = true;
};

}  // namespace cwb::ui
