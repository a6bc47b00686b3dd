// Rendering the window to a PNG for documentation and tests (see screenshot_runner.h).
#include "ui/window/screenshot_runner.h"

#include <QApplication>
#include <QBuffer>
#include <QDir>
#include <QFileInfo>
#include <QPixmap>
#include <QPushButton>
#include <QTabWidget>
#include <QTimer>
#include <cstdio>
#include <string>

#include "core/error.h"
#include "core/util/atomic_file.h"
#include "ui/llm/generation_panel.h"
#include "ui/llm/llm_measure_page.h"
#include "ui/llm/llm_mode.h"
#include "ui/llm/model_table_panel.h"
#include "ui/llm/tensor_browser.h"
#include "ui/panels/controls_panel.h"
#include "ui/panels/distill_panel.h"
#include "ui/window/app_paths.h"
#include "ui/window/distillation_page.h"
#include "ui/window/main_window.h"
#include "ui/worker/distill_controller.h"
#include "ui/worker/llm_controller.h"
#include "ui/worker/recompute_controller.h"

namespace cwb::ui {

ScreenshotRunner::ScreenshotRunner(MainWindow* window, ScreenshotOptions options, QObject* parent)
    : QObject(parent), m_window(window), m_options(std::move(options)) {}

void ScreenshotRunner::start() {
    m_clock.start();
    m_window->resize(m_options.size);
    m_window->show();
    connect(m_window, &MainWindow::modelFailed, this,
            [this](const QString& message) { finish(3, message); });
    connect(m_window, &MainWindow::modelReady, this, [this] {
        if (m_stage != Stage::Loading) return;
        applyOptions();
        m_stage = Stage::Settling;
    });
    const QString model = m_options.model.isEmpty() ? defaultModelPath() : m_options.model;
    if (model.isEmpty()) {
        finish(3, QStringLiteral("no model given and no bundled model found in resources/models; "
                                 "pass --model PATH"));
        return;
    }
    const QStringList tabs{"compression", "distillation", "tensors", "table", "measure"};
    if (m_options.tab == QLatin1String("distillation"))
        m_window->tabs()->setCurrentWidget(m_window->distillationPage());
    else if (!m_options.tab.isEmpty() && !tabs.contains(m_options.tab)) {
        finish(2, QStringLiteral("unknown --tab %1: use compression or distillation (a Keras "
                                 "model), tensors, table or measure (a language model)")
                      .arg(m_options.tab));
        return;
    }
    m_window->openModel(model);
    auto* timer = new QTimer(this);
    connect(timer, &QTimer::timeout, this, &ScreenshotRunner::poll);
    timer->start(50);
}

void ScreenshotRunner::applyOptions() {
    WorkbenchSettings s = m_window->settings();
    if (m_options.alpha) setFieldValue(s, SettingsField::Alpha, *m_options.alpha);
    if (m_options.rho) setFieldValue(s, SettingsField::Rho, *m_options.rho);
    if (m_options.bits) setFieldValue(s, SettingsField::Bits, *m_options.bits);
    if (!m_options.format.isEmpty() &&
        !setFieldValue(s, SettingsField::LlmFormat, m_options.format)) {
        finish(2, QStringLiteral("unknown --format %1: use Q8_0, Q6_K, Q5_1, Q5_0, Q5_K, Q4_1, "
                                 "Q4_0, Q4_K, Q3_K or Q2_K")
                      .arg(m_options.format));
        return;
    }
    if (!m_options.scope.isEmpty() && !setFieldValue(s, SettingsField::LlmScope, m_options.scope)) {
        finish(2, QStringLiteral("unknown --scope %1: use blocks or all").arg(m_options.scope));
        return;
    }
    if (m_options.rho && !m_options.alpha)
        m_window->controls()->setActiveParameter(SweepParameter::Rho);
    m_window->settingsOwner()->editAll(s, QStringLiteral("screenshot"));
    if (m_window->isLlmMode()) {
        if (!m_options.layer.isEmpty())
            m_window->llmMode()->browser()->selectTensor(m_options.layer);
        if (m_options.tab == QLatin1String("table"))
            m_window->llmTabs()->setCurrentWidget(m_window->llmMode()->modelTable());
        if (m_options.tab == QLatin1String("measure"))
            m_window->llmTabs()->setCurrentWidget(m_window->llmMeasurePage());
        return;
    }
    if (!m_options.layer.isEmpty()) m_window->selectLayer(m_options.layer);
}

// A language model: the histograms of the selected tensor, or the whole-model table filled.
void ScreenshotRunner::pollLlm() {
    LlmController* c = m_window->llmController();
    const bool idle = c->isIdle() && m_window->llmMeasurePage()->controller()->isIdle();
    m_idlePolls = idle ? m_idlePolls + 1 : 0;
    if (m_idlePolls < 3) return;
    if (m_stage == Stage::Settling && m_options.sweep &&
        m_options.tab == QLatin1String("measure")) {
        // The sweep that fits the settings: the block formats around --format, else α or ρ.
        m_stage = Stage::Sweeping;
        m_idlePolls = 0;
        LlmMeasurePage* page = m_window->llmMeasurePage();
        LlmPageChoices choices = page->choices();
        choices.sweepKind = !m_options.format.isEmpty()         ? LlmSweepKind::Formats
                            : m_options.rho && !m_options.alpha ? LlmSweepKind::Rho
                                                                : LlmSweepKind::Alpha;
        page->applyChoices(choices);
        page->startSweep();
        return;
    }
    // The measure page shows both greedy continuations of its prompt (original, compressed).
    if ((m_stage == Stage::Settling || m_stage == Stage::Sweeping) &&
        m_options.tab == QLatin1String("measure")) {
        m_stage = Stage::Generating;
        m_idlePolls = 0;
        m_window->llmMeasurePage()->generationPanel()->generateButton()->click();
        return;
    }
    if (m_stage == Stage::Settling && m_options.tab == QLatin1String("table")) {
        m_stage = Stage::Table;
        m_idlePolls = 0;
        m_window->llmMode()->modelTable()->start();
        return;
    }
    if (!c->view()) {
        finish(5, QStringLiteral("the worker delivered no histograms"));
        return;
    }
    finish(save() ? 0 : 6, {});
}

void ScreenshotRunner::poll() {
    if (m_stage == Stage::Done) return;
    if (m_clock.elapsed() > m_options.timeoutMs) {
        finish(4, QStringLiteral("timed out after %1 s waiting for the worker's results")
                      .arg(m_options.timeoutMs / 1000));
        return;
    }
    if (m_stage == Stage::Loading) return;
    if (m_window->isLlmMode()) {
        pollLlm();
        return;
    }
    RecomputeController* c = m_window->controller();
    // Idle for a few polls in a row: every lane has delivered and nothing new was queued.
    const bool idle = c->isIdle() && m_window->distillController()->isIdle();
    m_idlePolls = idle ? m_idlePolls + 1 : 0;
    if (m_idlePolls < 3) return;
    if (m_stage == Stage::Settling && m_options.sweep && c->session() &&
        c->session()->canEvaluate()) {
        m_stage = Stage::Sweeping;
        m_idlePolls = 0;
        emit m_window->controls()->sweepRequested(m_window->controls()->activeParameter());
        return;
    }
    if ((m_stage == Stage::Settling || m_stage == Stage::Sweeping) && m_options.train &&
        c->session() && c->session()->canEvaluate()) {
        m_stage = Stage::Training;
        m_idlePolls = 0;
        m_window->distillationPage()->panel()->setEpochs(m_options.epochs);
        m_window->distillationPage()->startTraining();
        return;
    }
    if (m_stage == Stage::Training && !m_window->distillController()->student()) {
        finish(5, QStringLiteral("the student's training did not finish"));
        return;
    }
    if (!c->result()) {
        finish(5, QStringLiteral("the worker delivered no compression result"));
        return;
    }
    finish(save() ? 0 : 6, {});
}

bool ScreenshotRunner::save() {
    QApplication::processEvents();
    for (QWidget* w : m_window->findChildren<QWidget*>()) w->update();
    const QPixmap pixmap = m_window->grab();
    QByteArray png;
    QBuffer buffer(&png);
    std::string error = "could not encode the window as PNG";
    bool written = buffer.open(QIODevice::WriteOnly) && pixmap.save(&buffer, "PNG");
    try {
        if (written)
            writeBytesAtomically(QFile::encodeName(m_options.file).toStdString(),
                                 std::string_view(png.constData(), png.size()));
    } catch (const Error& e) {
        written = false;
        error = e.what();
    }
    if (!written) {
        std::fprintf(stderr, "compression-workbench: cannot write %s: %s\n",
                     qPrintable(m_options.file), error.c_str());
        return false;
    }
    std::printf("wrote %s (%dx%d) in %.1f s\n",
                qPrintable(QDir::toNativeSeparators(m_options.file)), pixmap.width(),
                pixmap.height(), m_clock.elapsed() / 1000.0);
    return true;
}

void ScreenshotRunner::finish(int code, const QString& message) {
    if (m_stage == Stage::Done) return;
    m_stage = Stage::Done;
    if (!message.isEmpty())
        std::fprintf(stderr, "compression-workbench: %s\n", qPrintable(message));
    std::fflush(stdout);
    QTimer::singleShot(0, qApp, [code] { QApplication::exit(code); });
}

}  // namespace cwb::ui
