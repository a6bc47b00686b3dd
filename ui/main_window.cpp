// The workbench's main window (see main_window.h).
#include "ui/main_window.h"

#include <QFileDialog>
#include <QLabel>
#include <QMenuBar>
#include <QMessageBox>

#include "core/error.h"
#include "core/io/model_loader.h"

namespace cwb::ui {

MainWindow::MainWindow(QWidget* parent) : QMainWindow(parent) {
    setWindowTitle(tr("Compression Workbench"));
    setWindowIcon(QIcon(":/icon.svg"));
    resize(1280, 800);
    setCentralWidget(new QLabel(tr("Open a model with File \u25B8 Open (Ctrl+O)"), this));
    buildMenus();
}

void MainWindow::buildMenus() {
    QMenu* file = menuBar()->addMenu(tr("&File"));
    file->addAction(tr("&Open\u2026"), QKeySequence::Open, this, [this] {
        const QString path = QFileDialog::getOpenFileName(
            this, tr("Open model"), {}, tr("Models (*.h5 *.keras *.safetensors);;All files (*)"));
        if (!path.isEmpty()) openModel(path);
    });
    file->addAction(tr("&Quit"), QKeySequence::Quit, this, &QWidget::close);
}

bool MainWindow::openModel(const QString& path) {
    try {
        const Model model = loadModel(path.toStdString());
        setWindowTitle(tr("%1 \u2014 Compression Workbench").arg(QFileInfo(path).fileName()));
        return true;
    } catch (const Error& e) {
        QMessageBox::warning(this, tr("Cannot open model"), QString::fromStdString(e.what()));
        return false;
    }
}

}  // namespace cwb::ui
