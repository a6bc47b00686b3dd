// The distillation page (see distillation_page.h).
#include "ui/window/distillation_page.h"

#include <QHBoxLayout>
#include <QScrollArea>
#include <QSplitter>

#include "ui/panels/distill_panel.h"
#include "ui/plots/class_names.h"
#include "ui/plots/temperature_plot.h"
#include "ui/plots/training_curve_plot.h"
#include "ui/settings/settings_owner.h"
#include "ui/worker/distill_controller.h"

namespace cwb::ui {

DistillationPage::DistillationPage(DistillController* controller, SettingsOwner* settings,
                                   QWidget* parent)
    : QWidget(parent), m_controller(controller), m_settings(settings) {
    m_panel = new DistillPanel(this);
    m_temperature = new TemperaturePlot(this);
    m_training = new TrainingCurvePlot(this);
    auto* plots = new QSplitter(Qt::Vertical, this);
    plots->addWidget(m_temperature);
    plots->addWidget(m_training);
    plots->setChildrenCollapsible(false);
    auto* layout = new QHBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    m_panel->setFixedWidth(300);
    layout->addWidget(m_panel);
    layout->addWidget(plots, 1);

    settings->attach(m_panel);
    connect(settings, &SettingsOwner::changed, this, [this](SettingsField field, const QObject*) {
        if (field == SettingsField::Temperature) requestPreview();
    });
    connect(m_panel, &DistillPanel::sampleChanged, this, [this] { requestPreview(); });
    connect(m_panel, &DistillPanel::trainRequested, this, &DistillationPage::startTraining);
    connect(m_panel, &DistillPanel::stopRequested, controller, &DistillController::cancelTraining);
    connect(m_panel, &DistillPanel::saveStudentRequested, this,
            &DistillationPage::saveStudentRequested);
    connect(m_panel, &DistillPanel::openStudentRequested, this,
            &DistillationPage::openStudentRequested);

    connect(controller, &DistillController::previewReady, this, [this](const PreviewResult& p) {
        m_panel->setPreview(p);
        m_temperature->setSoftTargets(
            p.atT, p.atOne, p.temperature, p.entropyAtT, p.entropyAtOne, fashionMnistClassNames(),
            tr("test image #%1 (%2)").arg(p.sample).arg(fashionMnistClassName(p.label)));
    });
    connect(controller, &DistillController::previewFailed, this,
            [this](const QString& message) { m_temperature->clearData(message); });
    connect(controller, &DistillController::phaseChanged, m_panel, &DistillPanel::setPhase);
    connect(controller, &DistillController::trainingProgress, m_panel, &DistillPanel::setProgress);
    connect(controller, &DistillController::batchReported, this,
            [this](double epoch, double loss, double) { m_training->addLoss(epoch, loss); });
    connect(controller, &DistillController::epochReported, this,
            [this](int epoch, double accuracy, double) {
                if (accuracy == accuracy)
                    m_training->addAccuracy(epoch, accuracy);  // NaN without a test set
            });
    connect(controller, &DistillController::trainingFinished, this,
            [this](bool completed, const QString& message) {
                m_panel->setTraining(false);
                m_panel->setPhase(message);
                m_panel->setStudentReady(completed || m_controller->student());
            });
}

QList<PlotBase*> DistillationPage::plots() const { return {m_temperature, m_training}; }

void DistillationPage::teacherChanged(bool canTrain, const QString& why) {
    m_panel->setTeacherReady(canTrain, why);
    m_panel->setStudentReady(false);
    m_training->clearData(canTrain ? tr("press Train student to start") : why);
    m_temperature->clearData(canTrain ? tr("computing the teacher's soft targets\u2026") : why);
    m_previewWanted = true;
    if (canTrain && isVisible()) requestPreview();
}

void DistillationPage::setTeacherAccuracy(double accuracy) {
    m_training->setTeacherAccuracy(accuracy);
}

void DistillationPage::startTraining() {
    if (m_controller->isTraining()) return;
    const DistillSettings& settings = m_settings->settings().distill;
    DistillRequest request;
    request.studentSpec = settings.student.empty() ? DistillPanel::studentChoices().at(1)
                                                   : QString::fromStdString(settings.student);
    request.temperature = settings.temperature;
    request.lambda = settings.lambda;
    request.epochs = m_panel->epochs();
    request.trainLimit = m_panel->trainImages();
    m_training->clearData(tr("starting\u2026"));
    m_panel->setTraining(true);
    m_controller->startTraining(request);
}

void DistillationPage::showEvent(QShowEvent* event) {
    QWidget::showEvent(event);
    if (m_previewWanted) requestPreview();
}

void DistillationPage::requestPreview() {
    m_previewWanted = false;
    m_controller->requestPreview(m_panel->sample(), m_settings->settings().distill.temperature);
}

}  // namespace cwb::ui
