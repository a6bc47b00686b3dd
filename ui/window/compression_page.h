// The main page: the weight histogram, the error histogram, accuracy and latency against
// the active parameter, and the Pareto plot, in splitters so each can be enlarged.
#pragma once

#include <QWidget>
#include <memory>

#include "core/compress/compress_model.h"
#include "ui/settings/evaluation_history.h"
#include "ui/worker/recompute_controller.h"

class QCheckBox;
class QSplitter;

namespace cwb::ui {

class WeightHistogramPlot;
class ErrorHistogramPlot;
class MetricCurvePlot;
class ParetoPlot;
class PlotBase;

class CompressionPage : public QWidget {
    Q_OBJECT
public:
    explicit CompressionPage(QWidget* parent = nullptr);

    void showResult(const CompressionResult& result, const QString& layer);
    void showAccuracy(const AccuracyUpdate& update, SweepParameter active);
    void showHistory(const EvaluationHistory& history, const WorkbenchSettings& current,
                     SweepParameter active);
    void setBaseline(const EvaluatedPoint& baseline);
    void clearAll(const QString& message);
    void clearAccuracy(const QString& message);

    void setLogCounts(bool log);
    bool logCounts() const;

    WeightHistogramPlot* weightPlot() const { return m_weights; }
    ErrorHistogramPlot* errorPlot() const { return m_error; }
    MetricCurvePlot* metricPlot() const { return m_metric; }
    ParetoPlot* paretoPlot() const { return m_pareto; }
    QList<PlotBase*> plots() const;
    QSplitter* splitter() const { return m_rows; }
    // The "log counts" toggle, for the window to place (the tab bar's corner).
    QCheckBox* logToggle() const { return m_log; }

signals:
    void logCountsToggled(bool log);

private:
    WeightHistogramPlot* m_weights;
    ErrorHistogramPlot* m_error;
    MetricCurvePlot* m_metric;
    ParetoPlot* m_pareto;
    QCheckBox* m_log;
    QSplitter* m_rows;
};

}  // namespace cwb::ui
