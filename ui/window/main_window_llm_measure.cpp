// The main window's language-model measurements: the LlmMeasurePage as a tab of the
// language-model mode, fed with the open checkpoint and the compression the settings ask for,
// measuring only while it is on screen (see main_window.h).
#include <QStatusBar>
#include <QTabWidget>

#include "ui/llm/llm_measure_page.h"
#include "ui/llm/llm_mode.h"
#include "ui/llm/llm_session.h"
#include "ui/window/main_window.h"
#include "ui/worker/llm_controller.h"
#include "ui/worker/llm_measure_controller.h"
#include "ui/worker/recompute_controller.h"

namespace cwb::ui {

void MainWindow::connectLlmMeasure() {
    QTabWidget* tabs = m_llm->tabs();
    m_llmMeasure = new LlmMeasurePage(tabs);
    m_llmMeasure->setObjectName("llmMeasurePage");
    tabs->insertTab(1, m_llmMeasure, tr("Perplexity && speed"));
    m_llmMeasure->setUndoStack(undoStack());
    auto activate = [this] {
        m_llmMeasure->setActive(isLlmMode() && m_llm->tabs()->currentWidget() == m_llmMeasure);
    };
    activate();
    connect(tabs, &QTabWidget::currentChanged, this, activate);
    connect(m_llm, &LlmMode::activeChanged, this, activate);
    connect(llmController(), &LlmController::sessionChanged, this, [this] {
        const auto session = llmController()->session();
        m_llmMeasure->setCompression(llmCompressionFor(settings()));
        m_llmMeasure->setModel(session ? session->checkpoint : nullptr,
                               session ? session->tokenizer : nullptr);
        if (session && !session->tokenizer)
            statusBar()->showMessage(
                tr("Perplexity and generation need a tokenizer: %1").arg(session->tokenizerMessage),
                10000);
    });
    connect(m_settings, &SettingsOwner::applied, this, [this] {
        if (isLlmMode()) m_llmMeasure->setCompression(llmCompressionFor(settings()));
    });
    // The Device box: perplexity, speed and generation run where the compression jobs do
    // (a device that cannot run the model falls back to the CPU with a note), and so do the
    // tensors' block formats.
    const auto followDevice = [this] {
        m_llmMeasure->controller()->setBackend(m_controller->backend());
        llmController()->setBackend(m_controller->backend());
    };
    followDevice();
    connect(m_controller, &RecomputeController::deviceChosen, this, followDevice);
    connect(m_llmMeasure, &LlmMeasurePage::message, this,
            [this](const QString& text) { statusBar()->showMessage(text, 8000); });
}

}  // namespace cwb::ui
