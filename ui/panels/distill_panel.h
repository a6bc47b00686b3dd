// The distillation controls: temperature T (log slider), the soft-target weight lambda,
// the student architecture, epochs, the sample image the preview shows, and the buttons
// to train, stop, save or open the student.
#pragma once

#include <QVariant>
#include <QWidget>

#include "core/compress/compression_settings.h"
#include "ui/settings/settings_field.h"

class QComboBox;
class QDoubleSpinBox;
class QLabel;
class QProgressBar;
class QPushButton;
class QSpinBox;

namespace cwb::ui {

class LogSlider;
struct PreviewResult;

class DistillPanel : public QWidget {
    Q_OBJECT
public:
    explicit DistillPanel(QWidget* parent = nullptr);

    // Shows T, lambda or the student without emitting fieldEdited; other fields are not
    // this panel's.
    void showSettings(const WorkbenchSettings& settings, SettingsField field);
    int sample() const;
    int epochs() const;
    void setEpochs(int epochs);
    void setPreview(const PreviewResult& preview);
    void setTraining(bool running);
    void setStudentReady(bool ready);
    void setPhase(const QString& text);
    void setProgress(qint64 done, qint64 total);
    void setTeacherReady(bool ready, const QString& why);

    LogSlider* temperatureSlider() const { return m_temperature; }
    QPushButton* trainButton() const { return m_train; }
    QComboBox* studentBox() const { return m_student; }
    QSpinBox* sampleBox() const { return m_sample; }
    // Training images to use: 0 = the whole training split.
    int trainImages() const;
    void setTrainImages(int images);

    // Student architectures offered (core arch specs); the box also takes a typed spec.
    static QStringList studentChoices();

signals:
    void fieldEdited(SettingsField field, const QVariant& value);
    void sampleChanged(int sample);
    void trainRequested();
    void stopRequested();
    void saveStudentRequested();
    void openStudentRequested();

private:
    void edit(SettingsField field, const QVariant& value);
    bool m_updating = false;
    LogSlider* m_temperature;
    QDoubleSpinBox* m_lambda;
    QComboBox* m_student;
    QSpinBox* m_epochs;
    QComboBox* m_images;
    QSpinBox* m_sample;
    QLabel* m_image;
    QLabel* m_phase;
    QProgressBar* m_progress;
    QPushButton* m_train;
    QPushButton* m_stop;
    QPushButton* m_save;
    QPushButton* m_open;
};

}  // namespace cwb::ui
