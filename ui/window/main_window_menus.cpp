// The main window's menus and shortcuts (MainWindow::buildMenus; see main_window.h).
#include <QDockWidget>
#include <QFileDialog>
#include <QFileInfo>
#include <QMenuBar>
#include <QMessageBox>
#include <QSlider>
#include <QStatusBar>
#include <QTabWidget>
#include <QTableView>

#include "ui/llm/llm_measure_page.h"
#include "ui/panels/controls_panel.h"
#include "ui/panels/layer_panel.h"
#include "ui/panels/log_slider.h"
#include "ui/window/app_paths.h"
#include "ui/window/compression_page.h"
#include "ui/window/distillation_page.h"
#include "ui/window/exporter.h"
#include "ui/window/main_window.h"
#include "ui/window/recent_files.h"
#include "ui/worker/distill_controller.h"
#include "ui/worker/recompute_controller.h"

namespace cwb::ui {

void MainWindow::buildMenus() {
    QMenu* file = menuBar()->addMenu(tr("&File"));
    file->addAction(tr("&Open model\u2026"), QKeySequence::Open, this, [this] {
        const QString path = QFileDialog::getOpenFileName(
            this, tr("Open model"),
            QFileInfo(m_controller->session() ? m_controller->session()->path : QString()).path(),
            tr("Models and checkpoints (*.h5 *.keras *.safetensors *.gguf *.bin config.json);;"
               "All files (*)"));
        if (!path.isEmpty()) openModel(path);
    });
    // A Hugging Face checkpoint is a folder; its config.json or a shard also opens it.
    file->addAction(tr("Open checkpoint &folder…"), QKeySequence(tr("Ctrl+Shift+O")), this, [this] {
        const QString dir =
            QFileDialog::getExistingDirectory(this, tr("Open language-model checkpoint folder"));
        if (!dir.isEmpty()) openModel(dir);
    });
    m_recent = new RecentFiles(file->addMenu(tr("Open &recent")), this);
    connect(m_recent, &RecentFiles::openRequested, this, &MainWindow::openModel);
    QMenu* bundled = file->addMenu(tr("Open &bundled model"));
    for (const QString& path : bundledModels())
        bundled->addAction(QFileInfo(path).fileName(), this, [this, path] { openModel(path); });
    bundled->setEnabled(!bundled->isEmpty());
    file->addSeparator();
    file->addAction(tr("&Export compressed model (.h5)\u2026"), QKeySequence(tr("Ctrl+E")), this,
                    &MainWindow::exportCompressedModel);
    file->addAction(
        tr("Export &plots (PNG or PDF)\u2026"), QKeySequence(tr("Ctrl+Shift+P")), this, [this] {
            exportPlotsInteractive(this, isLlmMode() ? m_llmMeasure->plots()
                                                     : m_page->plots() + m_distillPage->plots());
        });
    file->addAction(tr("Export evaluated settings (&CSV)\u2026"), QKeySequence(tr("Ctrl+Shift+C")),
                    this, [this] {
                        if (!isLlmMode()) return exportCsvInteractive(this, *m_history);
                        exportCsvInteractive(this, tr("Export measured settings"),
                                             QStringLiteral("llm-settings.csv"),
                                             [this](const QString& path, QString* error) {
                                                 return m_llmMeasure->writeCsv(path, error);
                                             });
                    });
    file->addSeparator();
    file->addAction(tr("&Quit"), QKeySequence::Quit, this, &QWidget::close);

    QMenu* edit = menuBar()->addMenu(tr("&Edit"));
    QAction* undo = m_settings->undoStack()->createUndoAction(this, tr("&Undo"));
    undo->setShortcut(QKeySequence::Undo);
    QAction* redo = m_settings->undoStack()->createRedoAction(this, tr("&Redo"));
    redo->setShortcuts({QKeySequence(tr("Ctrl+Shift+Z")), QKeySequence::Redo});
    edit->addAction(undo);
    edit->addAction(redo);
    edit->addSeparator();
    edit->addAction(tr("&Reset settings"), QKeySequence(tr("Ctrl+R")), this,
                    [this] { emit m_controls->resetRequested(); });

    QMenu* run = menuBar()->addMenu(tr("&Run"));
    run->addAction(tr("&Sweep the active parameter"), QKeySequence(tr("Ctrl+Shift+W")), this,
                   [this] {
                       if (isLlmMode())
                           m_llmMeasure->startSweep();
                       else
                           startSweep(m_controls->activeParameter());
                   });
    run->addAction(tr("&Cancel sweep"), QKeySequence(Qt::Key_Escape), this, [this] {
        m_controller->cancelSweep();
        m_llmMeasure->controller()->cancelSweep();
    });
    run->addAction(tr("Layer s&ensitivity"), QKeySequence(tr("Ctrl+Shift+S")), this, [this] {
        statusBar()->showMessage(
            tr("Measuring each layer compressed alone on 2,000 test images\u2026"), 5000);
        m_controller->startSensitivity(2000);
    });
    run->addSeparator();
    run->addAction(tr("&Train student"), QKeySequence(tr("Ctrl+T")), this, [this] {
        m_tabs->setCurrentWidget(m_distillPage);
        m_distillPage->startTraining();
    });
    run->addAction(tr("St&op training"), QKeySequence(tr("Ctrl+.")), m_distill,
                   &DistillController::cancelTraining);

    QMenu* view = menuBar()->addMenu(tr("&View"));
    view->addAction(tr("&Log counts"), QKeySequence(tr("Ctrl+L")), this,
                    [this] { m_page->setLogCounts(!m_page->logCounts()); });
    view->addAction(tr("Focus \u03b1 slider"), QKeySequence(tr("Ctrl+1")), this,
                    [this] { m_controls->alphaSlider()->slider()->setFocus(); });
    view->addAction(tr("Focus \u03c1 slider"), QKeySequence(tr("Ctrl+2")), this,
                    [this] { m_controls->rhoSlider()->slider()->setFocus(); });
    view->addAction(tr("Focus layer table"), QKeySequence(tr("Ctrl+3")), this,
                    [this] { m_layers->view()->setFocus(); });
    view->addSeparator();
    for (QDockWidget* dock : findChildren<QDockWidget*>())
        view->addAction(dock->toggleViewAction());

    QMenu* help = menuBar()->addMenu(tr("&Help"));
    help->addAction(tr("&Keyboard shortcuts"), QKeySequence::HelpContents, this, [this] {
        QMessageBox::information(
            this, tr("Keyboard shortcuts"),
            tr("Ctrl+O open model\nCtrl+Z / Ctrl+Shift+Z undo / redo settings\nCtrl+R reset "
               "settings\n"
               "Ctrl+1 / Ctrl+2 focus \u03b1 / \u03c1 slider (then arrows, Page Up/Down)\nCtrl+3 "
               "layer table\n"
               "Ctrl+L log counts\nCtrl+Shift+W sweep, Esc cancel\nCtrl+Shift+P export plots\n"
               "Ctrl+Shift+C export evaluated settings as CSV\nCtrl+Q quit"));
    });
    help->addAction(tr("&About"), this, [this] {
        QMessageBox::about(
            this, tr("About Compression Workbench"),
            tr("Compress a trained network by eye: quantize, prune and distil, and watch "
               "weights, accuracy and latency on real data."));
    });
}

}  // namespace cwb::ui
