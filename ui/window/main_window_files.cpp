// The main window's files: opening, exporting, saving students, drag and drop, and what
// persists between sessions (see main_window.h).
#include <QCloseEvent>
#include <QDir>
#include <QFileDialog>
#include <QFileInfo>
#include <QMessageBox>
#include <QMimeData>
#include <QRegularExpression>
#include <QSettings>
#include <QStatusBar>

#include "core/io/llama_checkpoint.h"
#include "ui/llm/llm_mode.h"
#include "ui/settings/settings_store.h"
#include "ui/window/app_paths.h"
#include "ui/window/compression_page.h"
#include "ui/window/main_window.h"
#include "ui/worker/distill_controller.h"
#include "ui/worker/model_saver.h"
#include "ui/worker/recompute_controller.h"

namespace cwb::ui {

QString MainWindow::studentFileName() const {
    QString spec = m_distill->studentSpec();
    spec.replace(QRegularExpression(QStringLiteral("[^A-Za-z0-9]+")), QStringLiteral("-"));
    return tr("student-%1-T%2.h5").arg(spec).arg(settings().distill.temperature, 0, 'g', 3);
}

void MainWindow::exportCompressedModel() {
    const auto result = m_controller->result();
    const auto session = m_controller->session();
    if (!result || !session) {
        statusBar()->showMessage(tr("Nothing to export yet: open a model first"), 5000);
        return;
    }
    if (!session->model->evaluable) {
        QMessageBox::information(this, tr("Export compressed model"),
                                 tr("%1 holds weights only; the .h5 writer needs a full model.")
                                     .arg(QFileInfo(session->path).fileName()));
        return;
    }
    const QFileInfo source(session->path);
    const QString suggested = source.dir().filePath(source.completeBaseName() + "-compressed.h5");
    const QString path = QFileDialog::getSaveFileName(this, tr("Export compressed model"),
                                                      suggested, tr("Keras model (*.h5)"));
    if (path.isEmpty()) return;
    // The result shares untouched tensors with the session's model; the copy is cheap.
    m_saver->save(std::make_shared<const Model>(result->model), path);
}

void MainWindow::openModel(const QString& path) {
    if (isLlamaCheckpointPath(path.toStdString()))
        m_llm->open(path);
    else
        m_controller->openModel(path);
}

bool MainWindow::openStartupModel() {
    const QString last = QSettings().value("lastModel").toString();
    const QString path = !last.isEmpty() && QFileInfo::exists(last) ? last : defaultModelPath();
    if (path.isEmpty()) {
        const QString message =
            tr("No bundled model found (looked in resources/models). "
               "Open one with File \u25b8 Open (Ctrl+O).");
        m_page->clearAll(message);
        statusBar()->showMessage(message);
        return false;
    }
    openModel(path);
    return true;
}

void MainWindow::restoreLayout() {
    QSettings s;
    restoreGeometry(s.value("geometry").toByteArray());
    restoreState(s.value("windowState").toByteArray());
    m_page->setLogCounts(s.value("logCounts", false).toBool());
    m_settings->load(loadSettings(s));
}

void MainWindow::saveLayout() {
    QSettings s;
    s.setValue("geometry", saveGeometry());
    s.setValue("windowState", saveState());
    saveSettings(settings(), s);
}

void MainWindow::closeEvent(QCloseEvent* event) {
    saveLayout();
    QMainWindow::closeEvent(event);
}

void MainWindow::dragEnterEvent(QDragEnterEvent* event) {
    if (event->mimeData()->hasUrls() && event->mimeData()->urls().first().isLocalFile())
        event->acceptProposedAction();
}

void MainWindow::dropEvent(QDropEvent* event) {
    const QList<QUrl> urls = event->mimeData()->urls();
    if (!urls.isEmpty() && urls.first().isLocalFile()) {
        openModel(urls.first().toLocalFile());
        event->acceptProposedAction();
    }
}

}  // namespace cwb::ui
