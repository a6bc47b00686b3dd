// Where the window finds its bundled default models and the data set, whether it runs
// from the build tree, the source tree or an installed prefix.
#pragma once

#include <QString>
#include <QStringList>

namespace cwb::ui {

// Folders that may hold the bundled models, most specific first (existing ones only).
QStringList modelDirs();
// The bundled model files (.h5, .keras), default first; empty when none is installed.
QStringList bundledModels();
// The model the window opens when given none; empty when none is installed.
QString defaultModelPath();
// The Fashion-MNIST folder: $CWB_DATASET_DIR if set, else Debian's.
QString datasetDir();
// One line for the user when the data set is missing.
QString datasetInstallHint();

}  // namespace cwb::ui
