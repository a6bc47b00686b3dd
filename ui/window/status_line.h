// The status bar: which model and data set are in use (and how to install a missing data
// set), the current accuracy with its confidence interval, and a progress bar while the
// worker runs.
#pragma once

#include <QObject>

class QLabel;
class QProgressBar;
class QStatusBar;

namespace cwb::ui {

struct AccuracyUpdate;

class StatusLine : public QObject {
    Q_OBJECT
public:
    explicit StatusLine(QStatusBar* bar);

    void setModel(const QString& text, const QString& tooltip);
    void setDataset(const QString& text, bool available);
    void setAccuracy(const AccuracyUpdate& update, double latencyMs);
    void clearAccuracy(const QString& text = {});
    void setBusy(bool busy);
    void setProgress(qint64 done, qint64 total);
    QString datasetText() const;
    QString accuracyText() const;

private:
    QStatusBar* m_bar;
    QLabel* m_model;
    QLabel* m_dataset;
    QLabel* m_accuracy;
    QProgressBar* m_progress;
};

}  // namespace cwb::ui
