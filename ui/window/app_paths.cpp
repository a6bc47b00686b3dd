// Finding bundled models and the data set (see app_paths.h).
#include "ui/window/app_paths.h"

#include <QCoreApplication>
#include <QDir>
#include <QFileInfo>

#include "core/io/idx_dataset.h"

namespace cwb::ui {

QStringList modelDirs() {
    const QString exe = QCoreApplication::applicationDirPath();
    const QStringList candidates{
        exe + "/../share/compression-workbench/models",  // installed: bin/ next to share/
        exe + "/../resources/models",                    // build/ next to resources/
        exe + "/../../resources/models",                 // build/app/ in the source tree
        QStringLiteral(CWB_SOURCE_DIR "/resources/models"),
        QStringLiteral(CWB_INSTALL_DATADIR "/models"),
    };
    QStringList out;
    for (const QString& dir : candidates) {
        const QString clean = QDir::cleanPath(dir);
        if (QFileInfo(clean).isDir() && !out.contains(clean)) out << clean;
    }
    return out;
}

QStringList bundledModels() {
    for (const QString& dir : modelDirs()) {
        QDir d(dir);
        QStringList files = d.entryList({"*.h5", "*.keras"}, QDir::Files, QDir::Name);
        files.removeIf([](const QString& f) { return f.endsWith(".weights.h5"); });
        if (files.isEmpty()) continue;
        // The teacher is the model a lecture starts from; otherwise the alphabetical first.
        std::stable_sort(files.begin(), files.end(), [](const QString& a, const QString& b) {
            return a.contains("teacher", Qt::CaseInsensitive) &&
                   !b.contains("teacher", Qt::CaseInsensitive);
        });
        QStringList paths;
        for (const QString& f : files) paths << d.absoluteFilePath(f);
        return paths;
    }
    return {};
}

QString defaultModelPath() {
    const QStringList models = bundledModels();
    return models.isEmpty() ? QString() : models.first();
}

QString datasetDir() {
    const QString env = qEnvironmentVariable("CWB_DATASET_DIR");
    return env.isEmpty() ? QString::fromLatin1(kDefaultDatasetDir) : env;
}

QString datasetInstallHint() {
    return QObject::tr(
               "Fashion-MNIST not found in %1: install it with "
               "\"sudo apt-get install dataset-fashion-mnist\"")
        .arg(datasetDir());
}

}  // namespace cwb::ui
