// Exporting plots and tables (see exporter.h).
#include "ui/window/exporter.h"

#include <QDir>
#include <QFileDialog>
#include <QInputDialog>
#include <QMessageBox>
#include <QTemporaryDir>

#include "ui/plots/plot_base.h"
#include "ui/settings/evaluation_history.h"
#include "ui/util/csv_file.h"

namespace cwb::ui {

QString plotSlug(const PlotBase* plot) {
    QString slug = plot->title().section(QLatin1Char(':'), 0, 0).toLower();
    slug.replace(QRegularExpression(QStringLiteral("[^a-z0-9]+")), QStringLiteral("-"));
    while (slug.endsWith('-')) slug.chop(1);
    while (slug.startsWith('-')) slug.remove(0, 1);
    return slug.isEmpty() ? QStringLiteral("plot") : slug;
}

QStringList savePlots(const QList<PlotBase*>& plots, const QString& dir, const QString& format,
                      QString* error) {
    QStringList written;
    QStringList used;
    for (PlotBase* plot : plots) {
        QString name = plotSlug(plot);
        for (int n = 2; used.contains(name); ++n) name = plotSlug(plot) + QString::number(n);
        used << name;
        const QString path = QDir(dir).filePath(name + "." + format);
        if (!plot->saveTo(path, qMax(plot->width(), 800), qMax(plot->height(), 500))) {
            if (error && error->isEmpty()) *error = QObject::tr("could not write %1").arg(path);
            continue;
        }
        written << path;
    }
    return written;
}

void exportPlotsInteractive(QWidget* parent, const QList<PlotBase*>& plots) {
    bool ok = false;
    const QString format =
        QInputDialog::getItem(parent, QObject::tr("Export plots"), QObject::tr("Format:"),
                              {QStringLiteral("png"), QStringLiteral("pdf")}, 0, false, &ok);
    if (!ok) return;
    const QString dir =
        QFileDialog::getExistingDirectory(parent, QObject::tr("Export plots to folder"));
    if (dir.isEmpty()) return;
    QString error;
    const QStringList files = savePlots(plots, dir, format, &error);
    if (!error.isEmpty())
        QMessageBox::warning(parent, QObject::tr("Export plots"), error);
    else
        QMessageBox::information(parent, QObject::tr("Export plots"),
                                 QObject::tr("Wrote %1 plots to %2.").arg(files.size()).arg(dir));
}

void exportCsvInteractive(QWidget* parent, const QString& title, const QString& suggested,
                          const std::function<bool(const QString&, QString*)>& write) {
    const QString path =
        QFileDialog::getSaveFileName(parent, title, suggested, QObject::tr("CSV (*.csv)"));
    if (path.isEmpty()) return;
    QString error;
    if (!write(path, &error))
        QMessageBox::warning(parent, title, QObject::tr("Could not write %1: %2").arg(path, error));
}

void exportCsvInteractive(QWidget* parent, const EvaluationHistory& history) {
    exportCsvInteractive(parent, QObject::tr("Export evaluated settings"),
                         QStringLiteral("evaluated-settings.csv"),
                         [&history](const QString& path, QString* error) {
                             return writeCsvFile(path, history.table(), error);
                         });
}

}  // namespace cwb::ui
