// The distillation controls (see distill_panel.h).
#include "ui/panels/distill_panel.h"

#include <QComboBox>
#include <QDoubleSpinBox>
#include <QFormLayout>
#include <QGroupBox>
#include <QImage>
#include <QLabel>
#include <QPixmap>
#include <QProgressBar>
#include <QPushButton>
#include <QSpinBox>
#include <QVBoxLayout>

#include "ui/panels/log_slider.h"
#include "ui/plots/class_names.h"
#include "ui/worker/distill_controller.h"

namespace cwb::ui {

QStringList DistillPanel::studentChoices() {
    return {QStringLiteral("mlp:32"),      QStringLiteral("mlp:64"),
            QStringLiteral("mlp:128"),     QStringLiteral("mlp:256,128"),
            QStringLiteral("cnn:8,16/32"), QStringLiteral("cnn:16,32/64")};
}

DistillPanel::DistillPanel(QWidget* parent) : QWidget(parent) {
    auto* box = new QGroupBox(tr("Distillation temperature T"), this);
    auto* form = new QFormLayout(box);
    form->setFieldGrowthPolicy(QFormLayout::AllNonFixedFieldsGrow);
    m_temperature = new LogSlider(1.0, 50.0, false, 2, box);
    m_temperature->setToolTip(
        tr("Soft targets softmax(z / T): higher T spreads the teacher's probability "
           "over the classes it finds similar."));
    form->addRow(m_temperature);
    m_lambda = new QDoubleSpinBox(box);
    m_lambda->setRange(0.0, 1.0);
    m_lambda->setSingleStep(0.05);
    m_lambda->setDecimals(2);
    m_lambda->setKeyboardTracking(false);
    m_lambda->setToolTip(
        tr("\u03bb T\u00b2 KL(teacher \u2016 student) + (1 \u2212 \u03bb) cross-entropy(labels)"));
    form->addRow(tr("Soft weight \u03bb"), m_lambda);
    m_student = new QComboBox(box);
    m_student->setEditable(true);
    m_student->addItems(studentChoices());
    m_student->setToolTip(tr("Student architecture: mlp:H1,H2 or cnn:C1,C2/H (core arch spec)"));
    form->addRow(tr("Student"), m_student);
    m_epochs = new QSpinBox(box);
    m_epochs->setRange(1, 50);
    m_epochs->setValue(3);
    m_images = new QComboBox(box);
    m_images->addItem(tr("all 60,000"), 0);
    m_images->addItem(tr("first 10,000 (quick)"), 10000);
    m_images->addItem(tr("first 2,000 (demo)"), 2000);
    m_images->setToolTip(tr("Training images the student sees each epoch"));
    auto* epochRow = new QHBoxLayout;
    epochRow->addWidget(m_epochs);
    epochRow->addWidget(m_images, 1);
    form->addRow(tr("Epochs"), epochRow);

    auto* preview = new QGroupBox(tr("Preview image"), this);
    auto* previewLayout = new QHBoxLayout(preview);
    m_image = new QLabel(preview);
    m_image->setFixedSize(84, 84);
    m_image->setFrameShape(QFrame::Box);
    m_sample = new QSpinBox(preview);
    m_sample->setRange(0, DistillController::kPreviewSamples - 1);
    m_sample->setPrefix(tr("test image #"));
    previewLayout->addWidget(m_image);
    previewLayout->addWidget(m_sample, 1);

    auto* run = new QGroupBox(tr("Train a student"), this);
    auto* runLayout = new QVBoxLayout(run);
    m_train = new QPushButton(tr("Train student"), run);
    m_train->setToolTip(tr("Train the student on the teacher's soft targets (Ctrl+T)"));
    m_stop = new QPushButton(tr("Stop"), run);
    m_save = new QPushButton(tr("Save student\u2026"), run);
    m_open = new QPushButton(tr("Compress student"), run);
    m_open->setToolTip(tr("Open the trained student in the workbench, to quantize and prune it"));
    auto* row1 = new QHBoxLayout;
    row1->addWidget(m_train, 2);
    row1->addWidget(m_stop, 1);
    auto* row2 = new QHBoxLayout;
    row2->addWidget(m_save);
    row2->addWidget(m_open);
    m_progress = new QProgressBar(run);
    m_progress->setVisible(false);
    m_phase = new QLabel(run);
    m_phase->setWordWrap(true);
    runLayout->addLayout(row1);
    runLayout->addWidget(m_progress);
    runLayout->addWidget(m_phase);
    runLayout->addLayout(row2);

    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(4, 4, 4, 4);
    layout->addWidget(box);
    layout->addWidget(preview);
    layout->addWidget(run);
    layout->addStretch(1);

    connect(m_temperature, &LogSlider::valueEdited, this,
            [this](double t) { edit(SettingsField::Temperature, t); });
    connect(m_lambda, &QDoubleSpinBox::valueChanged, this,
            [this](double l) { edit(SettingsField::Lambda, l); });
    connect(m_student, &QComboBox::currentTextChanged, this,
            [this](const QString& spec) { edit(SettingsField::Student, spec); });
    connect(m_sample, &QSpinBox::valueChanged, this, &DistillPanel::sampleChanged);
    connect(m_train, &QPushButton::clicked, this, &DistillPanel::trainRequested);
    connect(m_stop, &QPushButton::clicked, this, &DistillPanel::stopRequested);
    connect(m_save, &QPushButton::clicked, this, &DistillPanel::saveStudentRequested);
    connect(m_open, &QPushButton::clicked, this, &DistillPanel::openStudentRequested);
    const WorkbenchSettings defaults;
    for (SettingsField field : kSettingsFields) showSettings(defaults, field);
    setTraining(false);
    setStudentReady(false);
}

void DistillPanel::edit(SettingsField field, const QVariant& value) {
    if (!m_updating) emit fieldEdited(field, value);
}

void DistillPanel::showSettings(const WorkbenchSettings& s, SettingsField field) {
    m_updating = true;
    switch (field) {
        case SettingsField::Temperature:
            m_temperature->setValue(s.distill.temperature);
            break;
        case SettingsField::Lambda:
            m_lambda->setValue(s.distill.lambda);
            break;
        case SettingsField::Student:
            // Empty is the default student, which the box shows by name.
            m_student->setCurrentText(s.distill.student.empty()
                                          ? studentChoices().at(1)
                                          : QString::fromStdString(s.distill.student));
            break;
        default:
            break;
    }
    m_updating = false;
}

int DistillPanel::sample() const { return m_sample->value(); }
int DistillPanel::epochs() const { return m_epochs->value(); }
void DistillPanel::setEpochs(int epochs) { m_epochs->setValue(epochs); }
int DistillPanel::trainImages() const { return m_images->currentData().toInt(); }
void DistillPanel::setTrainImages(int images) {
    const int index = m_images->findData(images);
    if (index >= 0) m_images->setCurrentIndex(index);
}

void DistillPanel::setPreview(const PreviewResult& p) {
    QImage image(p.cols, p.rows, QImage::Format_Grayscale8);
    for (int y = 0; y < p.rows; ++y) {
        uchar* line = image.scanLine(y);
        for (int x = 0; x < p.cols; ++x)
            line[x] = uchar(qBound(0, int(p.pixels[y * p.cols + x] * 255 + 0.5f), 255));
    }
    m_image->setPixmap(QPixmap::fromImage(image.scaled(m_image->size() - QSize(2, 2))));
    m_image->setToolTip(fashionMnistClassName(p.label));
}

void DistillPanel::setTraining(bool running) {
    m_train->setEnabled(!running);
    m_stop->setEnabled(running);
    m_student->setEnabled(!running);
    m_epochs->setEnabled(!running);
    m_images->setEnabled(!running);
    m_progress->setVisible(running);
    if (running) m_progress->setRange(0, 0);
}

void DistillPanel::setStudentReady(bool ready) {
    m_save->setEnabled(ready);
    m_open->setEnabled(ready);
}

void DistillPanel::setPhase(const QString& text) { m_phase->setText(text); }

void DistillPanel::setProgress(qint64 done, qint64 total) {
    if (total <= 0) return;
    m_progress->setRange(0, 1000);
    m_progress->setValue(int(1000 * done / total));
}

void DistillPanel::setTeacherReady(bool ready, const QString& why) {
    m_train->setEnabled(ready && !m_stop->isEnabled());
    m_train->setToolTip(ready ? tr("Train the student on the teacher's soft targets (Ctrl+T)")
                              : why);
    if (!ready) m_phase->setText(why);
}

}  // namespace cwb::ui
