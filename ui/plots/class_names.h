// Fashion-MNIST's ten class names, in label order, for axis labels and tooltips.
#pragma once

#include <QStringList>

namespace cwb::ui {

inline QStringList fashionMnistClassNames() {
    return {QStringLiteral("T-shirt"),   QStringLiteral("Trouser"), QStringLiteral("Pullover"),
            QStringLiteral("Dress"),     QStringLiteral("Coat"),    QStringLiteral("Sandal"),
            QStringLiteral("Shirt"),     QStringLiteral("Sneaker"), QStringLiteral("Bag"),
            QStringLiteral("Ankle boot")};
}

inline QString fashionMnistClassName(int label) {
    const QStringList names = fashionMnistClassNames();
    return label >= 0 && label < names.size() ? names[label] : QString::number(label);
}

}  // namespace cwb::ui
