// File > Export: plots as PNG or PDF, the table of evaluated settings as CSV, and the
// compressed model through the core's writer. Every write is atomic (temp file + rename).
#pragma once

#include <QList>
#include <QString>
#include <functional>

class QWidget;

namespace cwb::ui {

class EvaluationHistory;
class PlotBase;

// A file-name-safe slug of a plot's title: "Weight histogram: all layers" -> "weight-histogram".
QString plotSlug(const PlotBase* plot);

// Writes every plot into `dir` as slug.png or slug.pdf; returns the files written, and
// fills `error` for the first failure.
QStringList savePlots(const QList<PlotBase*>& plots, const QString& dir, const QString& format,
                      QString* error);

// The interactive versions, with dialogs.
void exportPlotsInteractive(QWidget* parent, const QList<PlotBase*>& plots);
void exportCsvInteractive(QWidget* parent, const EvaluationHistory& history);
// Asks for a file name (suggesting `suggested`) and calls `write(path, &error)`; a failure is
// shown in a message box titled `title`.
void exportCsvInteractive(QWidget* parent, const QString& title, const QString& suggested,
                          const std::function<bool(const QString&, QString*)>& write);

}  // namespace cwb::ui
