// The window's language-model mode (see llm_mode.h).
#include "ui/llm/llm_mode.h"

#include <QLabel>
#include <QTabWidget>
#include <algorithm>
#include <cmath>

#include "ui/llm/llm_format_panel.h"
#include "ui/llm/llm_tensor_page.h"
#include "ui/llm/model_table_panel.h"
#include "ui/llm/tensor_browser.h"
#include "ui/settings/settings_owner.h"
#include "ui/worker/llm_controller.h"

namespace cwb::ui {

LlmMode::LlmMode(SettingsOwner* settings, QWidget* parentWidget)
    : QObject(parentWidget), m_settings(settings) {
    m_controller = new LlmController(this);
    m_tabs = new QTabWidget(parentWidget);
    m_tabs->setObjectName("llmTabs");
    m_tabs->setDocumentMode(true);
    m_page = new LlmTensorPage(m_tabs);
    m_tabs->addTab(m_page, tr("Tensors"));
    m_table = new ModelTablePanel(m_controller, m_tabs);
    m_tabs->addTab(m_table, tr("Whole model"));
    auto* distill = new QLabel(
        tr("Distillation of language models is not available yet.\nDistillation works for the "
           "Keras classifiers: open one to use it."),
        m_tabs);
    distill->setObjectName("llmDistillationNote");
    distill->setAlignment(Qt::AlignCenter);
    distill->setWordWrap(true);
    m_tabs->addTab(distill, tr("Distillation"));

    m_browser = new TensorBrowser(parentWidget);
    m_browser->setObjectName("tensorBrowser");
    m_format = new LlmFormatPanel(parentWidget);
    m_format->setObjectName("llmFormatPanel");
    m_format->setVisible(false);
    m_settings->attach(m_format);

    connect(m_controller, &LlmController::sessionChanged, this, &LlmMode::onSessionChanged);
    connect(m_browser, &TensorBrowser::selectionChanged, m_controller,
            &LlmController::setSelection);
    connect(m_controller, &LlmController::viewReady, this, [this] {
        const auto view = m_controller->view();
        if (!view) return;
        m_page->showView(*view);
        // Once per selection: a range that moved under the user's drag would jump.
        if (view->label != m_scaledSelection) {
            m_scaledSelection = view->label;
            emit weightScaleChanged(std::max(std::fabs(double(view->stats.minValue)),
                                             std::fabs(double(view->stats.maxValue))));
        }
    });
    connect(m_controller, &LlmController::figuresReady, m_browser, &TensorBrowser::setFigures);
    connect(m_controller, &LlmController::tensorFailed, this,
            [this](const QString& message) { m_page->clearAll(message); });
}

LlmMode::~LlmMode() = default;

void LlmMode::open(const QString& path) { m_controller->openCheckpoint(path); }

void LlmMode::leave() {
    m_controller->close();
    if (m_active) {
        m_active = false;
        m_format->setVisible(false);
        emit activeChanged(false);
    }
}

void LlmMode::settingsApplied(const WorkbenchSettings& settings) {
    if (!m_active) return;
    if (WorkbenchSettings::compressionDiffers(settings, m_controller->settings()))
        m_browser->markFiguresStale();
    m_controller->requestSettings(settings);
}

void LlmMode::onSessionChanged() {
    const auto session = m_controller->session();
    m_browser->setSession(session);
    m_scaledSelection.clear();
    m_table->reset();
    const bool active = bool(session);
    if (active) {
        m_page->clearAll(tr("computing\u2026"));
        // The first block matrix: the histograms have something to show at once.
        QString first;
        for (const LlamaTensorRole& r : session->roles)
            if (isBlockMatrix(r.kind)) {
                first = QString::fromStdString(r.fileName);
                break;
            }
        m_browser->selectTensor(first);
    }
    m_format->setVisible(active);
    if (active != m_active) {
        m_active = active;
        emit activeChanged(active);
    }
}

}  // namespace cwb::ui
