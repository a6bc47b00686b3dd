// At a glance: what the current settings do to size, accuracy and latency, next to the
// float32 model's figures. Numbers are the core's (sizes under a real encoding, measured
// accuracy and latency); the panel only formats them.
#pragma once

#include <QWidget>

#include "core/stats/weight_stats.h"

class QLabel;

namespace cwb::ui {

struct AccuracyUpdate;
struct EvaluatedPoint;

class SummaryPanel : public QWidget {
    Q_OBJECT
public:
    explicit SummaryPanel(QWidget* parent = nullptr);

    void clear();
    void setCompression(const ModelStats& stats);
    void setBaseline(const EvaluatedPoint& baseline);
    void setAccuracy(const AccuracyUpdate& update);
    void setLatency(double ms, const QString& engine);
    QString sizeText() const;
    QString accuracyText() const;

private:
    void refreshAccuracy();
    QLabel* m_size;
    QLabel* m_accuracy;
    QLabel* m_latency;
    double m_baseAccuracy = -1, m_baseLatency = -1;
    double m_accuracyValue = -1, m_low = 0, m_high = 0;
    double m_latencyValue = -1;
    QString m_engine;
    bool m_final = false;
    int m_samples = 0, m_total = 0;
};

}  // namespace cwb::ui
