// A slider on a log scale with an exact spin box beside it and, optionally, an "off"
// position at the far left (value 0). Steps of the slider are evenly spaced in log(value),
// so a drag covers four decades evenly; the spin box takes any exact value.
#pragma once

#include <QWidget>

class QDoubleSpinBox;
class QLabel;
class QSlider;

namespace cwb::ui {

class LogSlider : public QWidget {
    Q_OBJECT
public:
    LogSlider(double minimum, double maximum, bool hasOff, int decimals, QWidget* parent = nullptr);

    double value() const { return m_value; }
    // Sets the value without emitting valueEdited (undo, reset, loading settings).
    void setValue(double value);
    // A new range for the slider and the spin box (the value stays; a value outside it shows
    // at the nearest end of the slider).
    void setRange(double minimum, double maximum);
    double minimum() const { return m_min; }
    double maximum() const { return m_max; }
    // A live readout under the slider, e.g. "sparsity 42.0 %".
    void setReadout(const QString& text);
    QString readout() const;
    QSlider* slider() const { return m_slider; }
    QDoubleSpinBox* spinBox() const { return m_spin; }

    // Slider position <-> value; position 0 is "off" when the slider has an off position.
    double valueAt(int position) const;
    int positionOf(double value) const;

    static constexpr int kSteps = 401;  // with "off" at 0: 100 steps per decade over 4 decades

signals:
    // The user moved the slider or typed a value.
    void valueEdited(double value);

private:
    void showValue(double value);
    double m_min, m_max, m_value = 0.0;
    bool m_hasOff;
    bool m_updating = false;
    QSlider* m_slider;
    QDoubleSpinBox* m_spin;
    QLabel* m_readout;
};

}  // namespace cwb::ui
