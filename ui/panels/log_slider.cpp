// Log-scale slider with an exact spin box (see log_slider.h).
#include "ui/panels/log_slider.h"

#include <QDoubleSpinBox>
#include <QGridLayout>
#include <QLabel>
#include <QSlider>
#include <algorithm>
#include <cmath>

namespace cwb::ui {

namespace {
// Shows 0.05 rather than 0.05000: exact values without trailing zeros.
class CompactSpinBox : public QDoubleSpinBox {
public:
    using QDoubleSpinBox::QDoubleSpinBox;
    QString textFromValue(double value) const override {
        return locale().toString(value, 'g', qMax(3, decimals() - 1));
    }
};
}  // namespace

LogSlider::LogSlider(double minimum, double maximum, bool hasOff, int decimals, QWidget* parent)
    : QWidget(parent), m_min(minimum), m_max(maximum), m_hasOff(hasOff) {
    m_slider = new QSlider(Qt::Horizontal, this);
    m_slider->setRange(0, kSteps);
    m_slider->setPageStep(kSteps / 20);
    m_spin = new CompactSpinBox(this);
    m_spin->setDecimals(decimals);
    m_spin->setRange(hasOff ? 0.0 : minimum, maximum);
    m_spin->setSingleStep(std::pow(10.0, -decimals + 1));
    m_spin->setStepType(QAbstractSpinBox::AdaptiveDecimalStepType);
    m_spin->setKeyboardTracking(false);  // typing "0.05" must not fire for "0.0" on the way
    if (hasOff) m_spin->setSpecialValueText(tr("off"));
    m_spin->setMinimumWidth(m_spin->fontMetrics().horizontalAdvance(QString(decimals + 4, '0')) +
                            30);
    m_readout = new QLabel(this);
    m_readout->setVisible(false);
    QFont small = m_readout->font();
    small.setPointSizeF(small.pointSizeF() * 0.92);
    m_readout->setFont(small);

    auto* layout = new QGridLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->setVerticalSpacing(0);
    layout->addWidget(m_slider, 0, 0);
    layout->addWidget(m_spin, 0, 1);
    layout->addWidget(m_readout, 1, 0, 1, 2);
    layout->setColumnStretch(0, 1);

    connect(m_slider, &QSlider::valueChanged, this, [this](int position) {
        if (m_updating) return;
        const double v = valueAt(position);
        showValue(v);
        emit valueEdited(v);
    });
    connect(m_spin, &QDoubleSpinBox::valueChanged, this, [this](double v) {
        if (m_updating) return;
        showValue(v);
        emit valueEdited(v);
    });
    showValue(hasOff ? 0.0 : minimum);
}

double LogSlider::valueAt(int position) const {
    if (m_hasOff && position <= 0) return 0.0;
    const int first = m_hasOff ? 1 : 0;
    const double t = double(position - first) / double(kSteps - first);
    const double v = m_min * std::pow(m_max / m_min, t);
    // Round to 3 significant digits: positions land on readable values (0.0123, not 0.012298).
    const double scale = std::pow(10.0, std::floor(std::log10(v)) - 2);
    return std::round(v / scale) * scale;
}

int LogSlider::positionOf(double value) const {
    if (value <= 0.0) return m_hasOff ? 0 : 0;
    const int first = m_hasOff ? 1 : 0;
    const double t = std::log(std::clamp(value, m_min, m_max) / m_min) / std::log(m_max / m_min);
    return first + static_cast<int>(std::lround(t * (kSteps - first)));
}

void LogSlider::setValue(double value) { showValue(value); }

void LogSlider::setRange(double minimum, double maximum) {
    if (minimum == m_min && maximum == m_max) return;
    m_min = minimum;
    m_max = maximum;
    m_updating = true;
    m_spin->setRange(m_hasOff ? 0.0 : minimum, std::max(maximum, m_value));
    m_updating = false;
    showValue(m_value);
}

void LogSlider::showValue(double value) {
    m_updating = true;
    m_value = value;
    m_slider->setValue(positionOf(value));
    m_spin->setValue(value);
    m_updating = false;
}

void LogSlider::setReadout(const QString& text) {
    m_readout->setText(text);
    m_readout->setVisible(!text.isEmpty());
}

QString LogSlider::readout() const { return m_readout->text(); }

}  // namespace cwb::ui
