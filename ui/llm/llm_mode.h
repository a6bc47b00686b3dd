// The window's language-model mode: what replaces the Keras views while a checkpoint is open
// (the tensor browser in the layers dock, the block-format controls under the sliders, the
// central tabs with the tensor histograms, the whole-model table and distillation's note),
// and the LlmController behind them. MainWindow owns one and only says when to switch.
#pragma once

#include <QObject>
#include <QString>

#include "core/compress/compression_settings.h"

class QTabWidget;
class QWidget;

namespace cwb::ui {

class LlmController;
class LlmFormatPanel;
class LlmTensorPage;
class ModelTablePanel;
class SettingsOwner;
class TensorBrowser;

class LlmMode : public QObject {
    Q_OBJECT
public:
    LlmMode(SettingsOwner* settings, QWidget* parentWidget);
    ~LlmMode() override;

    LlmController* controller() const { return m_controller; }
    QTabWidget* tabs() const { return m_tabs; }
    TensorBrowser* browser() const { return m_browser; }
    LlmFormatPanel* formatPanel() const { return m_format; }
    LlmTensorPage* tensorPage() const { return m_page; }
    ModelTablePanel* modelTable() const { return m_table; }
    // True between a checkpoint's arrival and the next Keras model.
    bool isActive() const { return m_active; }

    void open(const QString& path);
    // A Keras model arrived: forget the checkpoint and leave the mode.
    void leave();
    // The settings changed (SettingsOwner::applied); work follows only while active.
    void settingsApplied(const WorkbenchSettings& settings);

signals:
    void activeChanged(bool active);
    // The largest |W| of a newly selected tensor (or group), from its first view: the sliders
    // take a range that suits it (ControlsPanel::setWeightScale).
    void weightScaleChanged(double maxAbs);

private:
    void onSessionChanged();

    SettingsOwner* m_settings;
    LlmController* m_controller;
    QTabWidget* m_tabs;
    TensorBrowser* m_browser;
    LlmFormatPanel* m_format;
    LlmTensorPage* m_page;
    ModelTablePanel* m_table;
    bool m_active = false;
    QString m_scaledSelection;  // the selection whose weight scale was last sent
};

}  // namespace cwb::ui
