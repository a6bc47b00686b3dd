// The application icon at every bundled size (PNG: the Qt SVG plugin is not a dependency).
#pragma once

#include <QIcon>

namespace cwb::ui {

inline QIcon appIcon() {
    QIcon icon;
    for (int size : {32, 64, 128, 256})
        icon.addFile(QStringLiteral(":/icons/%1.png").arg(size), QSize(size, size));
    return icon;
}

}  // namespace cwb::ui
