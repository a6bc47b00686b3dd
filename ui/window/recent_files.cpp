// The recent-files menu (see recent_files.h).
#include "ui/window/recent_files.h"

#include <QDir>
#include <QFileInfo>
#include <QMenu>
#include <QSettings>

namespace cwb::ui {

RecentFiles::RecentFiles(QMenu* menu, QObject* parent) : QObject(parent), m_menu(menu) {
    rebuild();
}

QStringList RecentFiles::files() const { return QSettings().value("recentFiles").toStringList(); }

void RecentFiles::add(const QString& path) {
    const QString absolute = QFileInfo(path).absoluteFilePath();
    QStringList list = files();
    list.removeAll(absolute);
    list.prepend(absolute);
    while (list.size() > kMax) list.removeLast();
    QSettings().setValue("recentFiles", list);
    rebuild();
}

void RecentFiles::rebuild() {
    m_menu->clear();
    const QStringList list = files();
    int n = 0;
    for (const QString& path : list) {
        ++n;
        QAction* action =
            m_menu->addAction(QStringLiteral("&%1 %2").arg(n).arg(QFileInfo(path).fileName()));
        action->setToolTip(QDir::toNativeSeparators(path));
        action->setStatusTip(QDir::toNativeSeparators(path));
        action->setEnabled(QFileInfo::exists(path));
        connect(action, &QAction::triggered, this, [this, path] { emit openRequested(path); });
    }
    if (list.isEmpty()) m_menu->addAction(tr("(none yet)"))->setEnabled(false);
    m_menu->addSeparator();
    m_menu
        ->addAction(tr("Clear list"), this,
                    [this] {
                        QSettings().remove("recentFiles");
                        rebuild();
                    })
        ->setEnabled(!list.isEmpty());
}

}  // namespace cwb::ui
