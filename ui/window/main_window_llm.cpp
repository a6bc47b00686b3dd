// The main window's language-model mode: routing a checkpoint to LlmMode, switching the
// central widget and the docks, and the status line while it loads (see main_window.h).
#include <QCheckBox>
#include <QDockWidget>
#include <QFileInfo>
#include <QMessageBox>
#include <QSettings>
#include <QStackedWidget>
#include <QStatusBar>
#include <QTabWidget>
#include <QTimer>

#include "ui/llm/llm_mode.h"
#include "ui/llm/llm_tensor_page.h"
#include "ui/panels/controls_panel.h"
#include "ui/panels/summary_panel.h"
#include "ui/window/compression_page.h"
#include "ui/window/main_window.h"
#include "ui/window/recent_files.h"
#include "ui/window/status_line.h"
#include "ui/worker/llm_controller.h"
#include "ui/worker/recompute_controller.h"

namespace cwb::ui {

LlmController* MainWindow::llmController() const { return m_llm->controller(); }
QTabWidget* MainWindow::llmTabs() const { return m_llm->tabs(); }
bool MainWindow::isLlmMode() const { return m_llm->isActive(); }

void MainWindow::connectLlm() {
    LlmController* c = m_llm->controller();
    connect(c, &LlmController::loading, this, [this](const QString& path) {
        m_status->setModel(tr("Loading %1\u2026").arg(QFileInfo(path).fileName()), path);
    });
    connect(c, &LlmController::loadFailed, this,
            [this](const QString& path, const QString& message) {
                m_status->setModel(tr("Could not open %1").arg(QFileInfo(path).fileName()), {});
                emit modelFailed(message);
                auto* box = new QMessageBox(QMessageBox::Warning, tr("Cannot open checkpoint"),
                                            message, QMessageBox::Ok, this);
                box->setAttribute(Qt::WA_DeleteOnClose);
                box->open();
            });
    connect(c, &LlmController::sessionChanged, this, [this] {
        const auto session = m_llm->controller()->session();
        if (!session) return;
        const QString name = QFileInfo(session->path).fileName();
        setWindowTitle(tr("%1 \u2014 Compression Workbench").arg(name));
        const LlamaConfig& config = session->config();
        m_status->setModel(tr("%1: %2, %3 layers, hidden %4, %L5 tensors, opened in %6 ms")
                               .arg(name)
                               .arg(QString::fromStdString(session->info.format))
                               .arg(config.layers)
                               .arg(config.hiddenSize)
                               .arg(session->info.tensors.size())
                               .arg(session->loadSeconds * 1000, 0, 'f', 0),
                           QString::fromStdString(session->info.format) + "\n" + session->path);
        m_status->setDataset(
            session->tokenizer
                ? tr("tokenizer: %L1 pieces").arg(session->tokenizer->vocabularySize())
                : session->tokenizerMessage,
            bool(session->tokenizer));
        m_recent->add(session->path);
        QSettings().setValue("lastModel", session->path);
        m_llm->settingsApplied(settings());
        emit modelReady();
    });
    connect(m_llm, &LlmMode::activeChanged, this, &MainWindow::showLlmMode);
    connect(m_llm, &LlmMode::weightScaleChanged, m_controls, &ControlsPanel::setWeightScale);
    // One "log counts" setting for both modes' histograms.
    LlmTensorPage* page = m_llm->tensorPage();
    connect(m_page, &CompressionPage::logCountsToggled, page, &LlmTensorPage::setLogCounts);
    connect(page, &LlmTensorPage::logCountsToggled, m_page, &CompressionPage::setLogCounts);
}

void MainWindow::showLlmMode(bool on) {
    m_central->setCurrentWidget(on ? static_cast<QWidget*>(m_llm->tabs()) : m_tabs);
    m_layerStack->setCurrentIndex(on ? 1 : 0);
    m_layersDock->setWindowTitle(on ? tr("Tensors") : tr("Layers"));
    // The browser lists dozens to hundreds of tensors: give it more rows than the layer table.
    // (Queued: a dock resized before the window is laid out keeps its old height.)
    QTimer::singleShot(0, this,
                       [this, on] { resizeDocks({m_layersDock}, {on ? 250 : 190}, Qt::Vertical); });
    // The Keras summary and actions speak of accuracy on images; the format panel replaces them.
    m_summary->setVisible(!on);
    if (!on) m_controls->setWeightScale(0.0);  // the Keras range
    m_controls->setModelReady(
        on || m_controller->session(),
        !on && m_controller->session() && m_controller->session()->canEvaluate());
}

}  // namespace cwb::ui
