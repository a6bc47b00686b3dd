// The workbench's main window. It owns the settings (SettingsOwner: the core's
// WorkbenchSettings and their undo history), the worker (RecomputeController) and the list
// of evaluated settings, and wires the panels and plots to them; the panels, plots and
// lanes do the work in their own files.
#pragma once

#include <QMainWindow>
#include <QUndoStack>

#include "core/measure/sweep.h"
#include "ui/settings/evaluation_history.h"
#include "ui/settings/settings_owner.h"

class QDockWidget;
class QStackedWidget;
class QTabWidget;

namespace cwb::ui {

class CompressionPage;
class DistillController;
class DistillationPage;
class ModelSaver;
class ControlsPanel;
class LayerPanel;
class LlmController;
class LlmMeasurePage;
class LlmMode;
class RecentFiles;
class RecomputeController;
class StatusLine;
class SummaryPanel;
struct AccuracyUpdate;

class MainWindow : public QMainWindow {
    Q_OBJECT
public:
    explicit MainWindow(QWidget* parent = nullptr);
    ~MainWindow() override;

    // Starts loading in the background; modelLoaded or modelFailed follows.
    void openModel(const QString& path);
    // Opens the last model, or the bundled default; false (with a message shown) if none.
    bool openStartupModel();
    void selectLayer(const QString& name);
    void restoreLayout();  // geometry, docks, log toggle (not done in tests)

    RecomputeController* controller() const { return m_controller; }
    CompressionPage* compressionPage() const { return m_page; }
    DistillationPage* distillationPage() const { return m_distillPage; }
    DistillController* distillController() const { return m_distill; }
    QTabWidget* tabs() const { return m_tabs; }
    ControlsPanel* controls() const { return m_controls; }
    LayerPanel* layers() const { return m_layers; }
    SummaryPanel* summary() const { return m_summary; }
    EvaluationHistory* history() const { return m_history; }
    SettingsOwner* settingsOwner() const { return m_settings; }
    QUndoStack* undoStack() const { return m_settings->undoStack(); }
    StatusLine* statusLine() const { return m_status; }
    const WorkbenchSettings& settings() const { return m_settings->settings(); }

    // Language models (ui/llm/llm_session.h says how to reach the open checkpoint): opening
    // a checkpoint switches the window to its language-model mode, opening a Keras model
    // switches back. llmTabs() is the central tab widget of that mode (tensors, whole-model
    // table, distillation's note); measurement plots add their tabs to it.
    LlmController* llmController() const;
    QTabWidget* llmTabs() const;
    LlmMode* llmMode() const { return m_llm; }
    // Perplexity, KL, speed, sweeps and generation of the open checkpoint (a tab of llmTabs()).
    LlmMeasurePage* llmMeasurePage() const { return m_llmMeasure; }
    bool isLlmMode() const;

signals:
    void modelReady();  // a model is loaded and its first compression is on display
    void modelFailed(const QString& message);

protected:
    void closeEvent(QCloseEvent* event) override;
    void dragEnterEvent(QDragEnterEvent* event) override;
    void dropEvent(QDropEvent* event) override;

private:
    void buildDocks();
    void buildMenus();
    void connectWorker();
    void connectLlm();         // main_window_llm.cpp
    void connectLlmMeasure();  // main_window_llm_measure.cpp
    void showLlmMode(bool on);
    void onSettingsApplied();
    void onModelLoaded();
    void onCompressed();
    void onAccuracy(const AccuracyUpdate& update);
    void refreshHistory();
    void startSweep(SweepParameter p);
    void saveLayout();
    void exportCompressedModel();
    QString studentFileName() const;

    SettingsOwner* m_settings;
    RecomputeController* m_controller;
    EvaluationHistory* m_history;
    CompressionPage* m_page;
    DistillController* m_distill;
    DistillationPage* m_distillPage;
    ModelSaver* m_saver;
    QString m_openAfterSave;
    QTabWidget* m_tabs;
    ControlsPanel* m_controls;
    LayerPanel* m_layers;
    SummaryPanel* m_summary;
    StatusLine* m_status;
    QStackedWidget* m_central = nullptr;     // m_tabs, or the language-model mode's tabs
    QStackedWidget* m_layerStack = nullptr;  // the layer table, or the tensor browser
    QDockWidget* m_layersDock = nullptr;
    LlmMode* m_llm = nullptr;
    LlmMeasurePage* m_llmMeasure = nullptr;
    RecentFiles* m_recent = nullptr;
    QString m_selectedLayer;
    double m_lastLatencyMs = 0.0;
    bool m_firstResult = false;
};

}  // namespace cwb::ui
