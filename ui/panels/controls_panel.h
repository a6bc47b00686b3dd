// The compression controls: alpha (quantization step, with the bit width, granularity and
// scheme options), rho (pruning threshold, with a live sparsity readout and the textbook
// rule), the device, and the sweep and reset buttons. The panel reports edits as (field,
// value) to the settings owner and shows the fields the owner says changed, except those it
// edited itself (SettingsOwner::attach).
#pragma once

#include <QVariant>
#include <QWidget>

#include "core/compress/compression_settings.h"
#include "core/measure/sweep.h"
#include "ui/settings/settings_field.h"

class QCheckBox;
class QComboBox;
class QLabel;
class QProgressBar;
class QPushButton;

namespace cwb::ui {

class LogSlider;

class ControlsPanel : public QWidget {
    Q_OBJECT
public:
    explicit ControlsPanel(QWidget* parent = nullptr);

    // Shows `field` of `settings` without emitting fieldEdited.
    void showSettings(const WorkbenchSettings& settings, SettingsField field);
    SweepParameter activeParameter() const { return m_active; }
    void setActiveParameter(SweepParameter p);

    void setSparsityReadout(const QString& text);
    void setAlphaReadout(const QString& text);
    void setSweepState(bool running, int done, int total);
    void setModelReady(bool ready, bool canEvaluate);
    // The range of the alpha and rho sliders for weights whose largest magnitude is
    // `maxAbs` (a language model's selected tensor): four decades up to the decade above it.
    // 0 restores the Keras range, 1e-4 to 1.
    void setWeightScale(double maxAbs);

    LogSlider* alphaSlider() const { return m_alpha; }
    LogSlider* rhoSlider() const { return m_rho; }
    QComboBox* bitsBox() const { return m_bits; }
    QComboBox* deviceBox() const { return m_device; }
    QComboBox* kernelsBox() const { return m_kernels; }
    QCheckBox* textbookBox() const { return m_textbook; }

signals:
    void fieldEdited(SettingsField field, const QVariant& value);
    void activeParameterChanged(SweepParameter p);
    void sweepRequested(SweepParameter p);
    void sweepCancelRequested();
    void resetRequested();

private:
    QWidget* buildQuantization();
    QWidget* buildPruning();
    QWidget* buildActions();
    void edit(SettingsField field, const QVariant& value);
    void updateEnabled();

    SweepParameter m_active = SweepParameter::Alpha;
    bool m_updating = false;
    LogSlider* m_alpha;
    LogSlider* m_rho;
    QComboBox* m_bits;
    QComboBox* m_granularity;
    QComboBox* m_scheme;
    QCheckBox* m_textbook;
    QComboBox* m_device;
    QComboBox* m_kernels;
    QPushButton* m_sweep;
    QPushButton* m_cancel;
    QPushButton* m_reset;
    QProgressBar* m_progress;
};

}  // namespace cwb::ui
