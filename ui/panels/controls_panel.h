// The compression controls: alpha (quantization step, with the bit width, granularity and
// scheme options), rho (pruning threshold, with a live sparsity readout and the textbook
// rule), the device, and the sweep and reset buttons. The panel only reports edits; the
// main window turns them into undoable commands and pushes the result back with setSettings.
#pragma once

#include <QWidget>

#include "ui/settings/compression_settings.h"

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

    // Shows `settings` without emitting settingsEdited.
    void setSettings(const CompressionSettings& settings);
    const CompressionSettings& settings() const { return m_settings; }
    Parameter activeParameter() const { return m_active; }
    void setActiveParameter(Parameter p);

    void setSparsityReadout(const QString& text);
    void setAlphaReadout(const QString& text);
    void setSweepState(bool running, int done, int total);
    void setModelReady(bool ready, bool canEvaluate);

    LogSlider* alphaSlider() const { return m_alpha; }
    LogSlider* rhoSlider() const { return m_rho; }
    QComboBox* bitsBox() const { return m_bits; }
    QComboBox* deviceBox() const { return m_device; }
    QComboBox* kernelsBox() const { return m_kernels; }
    QCheckBox* textbookBox() const { return m_textbook; }

signals:
    // `control` names what the user changed ("alpha", "rho", "bits", ...).
    void settingsEdited(const CompressionSettings& settings, const QString& control);
    void activeParameterChanged(Parameter p);
    void sweepRequested(Parameter p);
    void sweepCancelRequested();
    void resetRequested();

private:
    QWidget* buildQuantization();
    QWidget* buildPruning();
    QWidget* buildActions();
    void edit(const QString& control, const std::function<void(CompressionSettings&)>& change);
    void updateEnabled();

    CompressionSettings m_settings;
    Parameter m_active = Parameter::Alpha;
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
