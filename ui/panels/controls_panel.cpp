// The compression controls (see controls_panel.h).
#include "ui/panels/controls_panel.h"

#include <QCheckBox>
#include <QComboBox>
#include <QFormLayout>
#include <QGroupBox>
#include <QLabel>
#include <QProgressBar>
#include <QPushButton>
#include <QSlider>
#include <QStandardItemModel>
#include <QVBoxLayout>
#include <cmath>

#include "core/backend/backend.h"
#include "ui/panels/log_slider.h"

namespace cwb::ui {

ControlsPanel::ControlsPanel(QWidget* parent) : QWidget(parent) {
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->setSpacing(8);
    layout->addWidget(buildQuantization());
    layout->addWidget(buildPruning());
    layout->addWidget(buildActions());
    const WorkbenchSettings defaults;
    for (SettingsField field : kSettingsFields) showSettings(defaults, field);
}

namespace {
QStringList fromNames(const std::vector<std::string>& names) {
    QStringList out;
    for (const auto& n : names) out << QString::fromStdString(n);
    return out;
}
}  // namespace

void ControlsPanel::setWeightScale(double maxAbs) {
    double top = 1.0;
    if (maxAbs > 0.0 && std::isfinite(maxAbs)) top = std::pow(10.0, std::ceil(std::log10(maxAbs)));
    for (LogSlider* s : {m_alpha, m_rho}) s->setRange(top * 1e-4, top);
}

QWidget* ControlsPanel::buildQuantization() {
    auto* box = new QGroupBox(tr("Quantization step \u03b1"), this);
    auto* form = new QFormLayout(box);
    form->setFieldGrowthPolicy(QFormLayout::AllNonFixedFieldsGrow);
    m_alpha = new LogSlider(1e-4, 1.0, true, 5, box);
    m_alpha->setToolTip(
        tr("W\u2032 = round(W / \u03b1) \u00b7 \u03b1. Far left = off. Ctrl+1 focuses it."));
    m_alpha->slider()->setAccessibleName(tr("alpha slider"));
    form->addRow(m_alpha);
    m_bits = new QComboBox(box);
    m_bits->addItem(tr("step \u03b1 (uniform)"), 0);
    for (int b = 8; b >= 2; --b) m_bits->addItem(tr("%1-bit codes").arg(b), b);
    m_bits->setToolTip(
        tr("k-bit codes take their step from the weight range; \u03b1 is then ignored."));
    form->addRow(tr("Codes"), m_bits);
    m_granularity = new QComboBox(box);
    m_granularity->addItems(fromNames(granularityNames()));
    m_granularity->setToolTip(
        tr("Which weights share one step: the whole tensor, each output channel, "
           "or groups along the input axis (needs a bit width)."));
    form->addRow(tr("Granularity"), m_granularity);
    m_scheme = new QComboBox(box);
    m_scheme->addItems(fromNames(schemeNames()));
    form->addRow(tr("Scheme"), m_scheme);

    connect(m_alpha, &LogSlider::valueEdited, this, [this](double v) {
        setActiveParameter(SweepParameter::Alpha);
        edit(SettingsField::Alpha, v);
    });
    connect(m_bits, &QComboBox::currentIndexChanged, this,
            [this](int) { edit(SettingsField::Bits, m_bits->currentData()); });
    connect(m_granularity, &QComboBox::currentTextChanged, this,
            [this](const QString& g) { edit(SettingsField::Granularity, g); });
    connect(m_scheme, &QComboBox::currentTextChanged, this,
            [this](const QString& v) { edit(SettingsField::Scheme, v); });
    return box;
}

QWidget* ControlsPanel::buildPruning() {
    auto* box = new QGroupBox(tr("Pruning threshold \u03c1"), this);
    auto* layout = new QVBoxLayout(box);
    m_rho = new LogSlider(1e-4, 1.0, true, 5, box);
    m_rho->setToolTip(
        tr("Weights with |W| < \u03c1 become exactly 0. Far left = off. Ctrl+2 focuses it."));
    m_rho->slider()->setAccessibleName(tr("rho slider"));
    layout->addWidget(m_rho);
    m_textbook = new QCheckBox(tr("Textbook formula: keep W \u2265 \u03c1"), box);
    m_textbook->setToolTip(
        tr("The literal rule from the seed article: it also prunes every negative weight. "
           "For teaching; it wrecks accuracy."));
    layout->addWidget(m_textbook);
    connect(m_rho, &LogSlider::valueEdited, this, [this](double v) {
        setActiveParameter(SweepParameter::Rho);
        edit(SettingsField::Rho, v);
    });
    connect(m_textbook, &QCheckBox::toggled, this,
            [this](bool on) { edit(SettingsField::Textbook, on); });
    return box;
}

QWidget* ControlsPanel::buildActions() {
    auto* box = new QGroupBox(tr("Run"), this);
    auto* form = new QFormLayout(box);
    m_device = new QComboBox(box);
    // The core's device list: a device that cannot run here is shown with the reason, never
    // selectable. The item data is the device name that chooseBackend() takes.
    for (const DeviceInfo& device : listDevices()) {
        const QString label = QString::fromStdString(device.label);
        m_device->addItem(
            device.available
                ? label
                : tr("%1: %2").arg(label, QString::fromStdString(device.unavailableReason)),
            QString::fromStdString(device.name));
        m_device->setItemData(m_device->count() - 1, QString::fromStdString(device.description),
                              Qt::ToolTipRole);
        if (auto* model = qobject_cast<QStandardItemModel*>(m_device->model());
            model && !device.available)
            model->item(m_device->count() - 1)->setEnabled(false);
    }
    m_kernels = new QComboBox(box);
    m_kernels->addItems(fromNames(kernelChoiceNames()));
    m_kernels->setToolTip(
        tr("Kernels that run the compressed model for accuracy and latency: auto times "
           "float32, int8 and sparse on each layer and keeps the fastest"));
    // A disabled entry with its reason is long; the closed box need not be as wide as it.
    m_device->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
    m_device->setMinimumContentsLength(6);
    auto* engineRow = new QHBoxLayout;
    engineRow->addWidget(m_device, 1);
    engineRow->addWidget(new QLabel(tr("Kernels"), box));
    engineRow->addWidget(m_kernels, 1);
    form->addRow(tr("Device"), engineRow);
    connect(m_kernels, &QComboBox::currentTextChanged, this,
            [this](const QString& k) { edit(SettingsField::Kernels, k); });
    m_sweep = new QPushButton(box);
    m_sweep->setToolTip(
        tr("Evaluate the active parameter over its range in the background (Ctrl+Shift+W)"));
    m_cancel = new QPushButton(tr("Cancel"), box);
    m_cancel->setToolTip(tr("Stop the sweep (Esc)"));
    m_reset = new QPushButton(tr("Reset"), box);
    m_reset->setToolTip(tr("All settings back to off (Ctrl+R)"));
    auto* row = new QHBoxLayout;
    row->addWidget(m_sweep, 2);
    row->addWidget(m_cancel, 1);
    row->addWidget(m_reset, 1);
    form->addRow(row);
    m_progress = new QProgressBar(box);
    m_progress->setTextVisible(true);
    m_progress->setFormat(tr("sweep %p %"));
    m_progress->setVisible(false);
    form->addRow(m_progress);
    connect(m_sweep, &QPushButton::clicked, this, [this] { emit sweepRequested(m_active); });
    connect(m_cancel, &QPushButton::clicked, this, &ControlsPanel::sweepCancelRequested);
    connect(m_reset, &QPushButton::clicked, this, &ControlsPanel::resetRequested);
    setSweepState(false, 0, 0);
    return box;
}

void ControlsPanel::edit(SettingsField field, const QVariant& value) {
    if (m_updating) return;
    updateEnabled();
    emit fieldEdited(field, value);
}

void ControlsPanel::showSettings(const WorkbenchSettings& s, SettingsField field) {
    m_updating = true;
    const QVariant value = fieldValue(s, field);
    switch (field) {
        case SettingsField::Alpha:
            m_alpha->setValue(value.toDouble());
            break;
        case SettingsField::Rho:
            m_rho->setValue(value.toDouble());
            break;
        case SettingsField::Bits:
            m_bits->setCurrentIndex(qMax(0, m_bits->findData(value.toInt())));
            break;
        case SettingsField::Granularity:
            m_granularity->setCurrentText(value.toString());
            break;
        case SettingsField::Scheme:
            m_scheme->setCurrentText(value.toString());
            break;
        case SettingsField::Textbook:
            m_textbook->setChecked(value.toBool());
            break;
        case SettingsField::Kernels:
            m_kernels->setCurrentText(value.toString());
            break;
        default:  // fields of other panels
            break;
    }
    m_updating = false;
    updateEnabled();
}

void ControlsPanel::updateEnabled() {
    const bool kbit = m_bits->currentData().toInt() > 0;
    m_alpha->setEnabled(!kbit);
    m_granularity->setEnabled(kbit);
    m_scheme->setEnabled(kbit);
}

void ControlsPanel::setActiveParameter(SweepParameter p) {
    const bool changed = p != m_active;
    m_active = p;
    m_sweep->setText(tr("Sweep %1").arg(parameterSymbol(p)));
    if (changed) emit activeParameterChanged(p);
}

void ControlsPanel::setSparsityReadout(const QString& text) { m_rho->setReadout(text); }
void ControlsPanel::setAlphaReadout(const QString& text) { m_alpha->setReadout(text); }

void ControlsPanel::setSweepState(bool running, int done, int total) {
    m_sweep->setText(tr("Sweep %1").arg(parameterSymbol(m_active)));
    m_sweep->setEnabled(!running);
    m_cancel->setEnabled(running);
    m_progress->setVisible(running);
    m_progress->setRange(0, qMax(1, total));
    m_progress->setValue(done);
}

void ControlsPanel::setModelReady(bool ready, bool canEvaluate) {
    for (QWidget* w : {static_cast<QWidget*>(m_alpha), static_cast<QWidget*>(m_rho),
                       static_cast<QWidget*>(m_bits), static_cast<QWidget*>(m_textbook)})
        w->setEnabled(ready);
    m_sweep->setEnabled(ready && canEvaluate);
    if (ready) updateEnabled();
}

}  // namespace cwb::ui
