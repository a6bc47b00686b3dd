// File > Open Recent: the last models opened, kept in QSettings, newest first.
#pragma once

#include <QObject>
#include <QStringList>

class QMenu;

namespace cwb::ui {

class RecentFiles : public QObject {
    Q_OBJECT
public:
    explicit RecentFiles(QMenu* menu, QObject* parent = nullptr);

    void add(const QString& path);
    QStringList files() const;
    static constexpr int kMax = 8;

signals:
    void openRequested(const QString& path);

private:
    void rebuild();
    QMenu* m_menu;
};

}  // namespace cwb::ui
