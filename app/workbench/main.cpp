// compression-workbench: the desktop window.
#include <QApplication>

#include "ui/main_window.h"

int main(int argc, char** argv) {
    QApplication app(argc, argv);
    QApplication::setOrganizationName("CompressionWorkbench");
    QApplication::setApplicationName("Compression Workbench");
    cwb::ui::MainWindow window;
    const QStringList args = QApplication::arguments();
    if (args.size() > 1) window.openModel(args.at(1));
    window.show();
    return app.exec();
}
