// The workbench's main window.
#pragma once

#include <QMainWindow>

namespace cwb::ui {

class MainWindow : public QMainWindow {
    Q_OBJECT
public:
    explicit MainWindow(QWidget* parent = nullptr);
    bool openModel(const QString& path);

private:
    void buildMenus();
};

}  // namespace cwb::ui
