// The status bar: which model and data set are in use (and how to install a missing data
// set), the device the jobs run on (with the note when it is not the one chosen), the current
// accuracy with its confidence interval, and a progress bar while the
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
    // The backend's name, or the one-line fallback note where another device runs the jobs.
    void setDevice(const QString& backend, const QString& note);
    void setAccuracy(const AccuracyUpdate& update, double latencyMs);
    void clearAccuracy(const QString& text = {});
    void setBusy(bool busy);
    void setProgress(qint64 done, qint64 total);
    QString datasetText() const;
    QString accuracyText() const;
    QString deviceText() const;

private:
    QStatusBar* m_bar;
    QLabel* m_model;
    QLabel* m_dataset;
    QLabel* m_device;
    QLabel* m_accuracy;
    QProgressBar* m_progress;
};

}  // namespace cwb::ui
