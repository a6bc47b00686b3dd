// The language-model mode's main page: the selected tensor's (or group's) histograms of
// original and compressed values on shared bin edges, with a block format's levels, and the
// error histogram with its SQNR; a line under them says what is shown (which tensors, which
// compression, exact or a preview on sampled rows, and how long it took).
#pragma once

#include <QWidget>

#include "ui/worker/llm_controller.h"

class QCheckBox;
class QLabel;

namespace cwb::ui {

class ErrorHistogramPlot;
class PlotBase;
class WeightHistogramPlot;

class LlmTensorPage : public QWidget {
    Q_OBJECT
public:
    explicit LlmTensorPage(QWidget* parent = nullptr);

    void showView(const LlmTensorView& view);
    void clearAll(const QString& message);
    void setLogCounts(bool log);

    WeightHistogramPlot* weightPlot() const { return m_weights; }
    ErrorHistogramPlot* errorPlot() const { return m_error; }
    QLabel* note() const { return m_note; }
    QList<PlotBase*> plots() const;

signals:
    void logCountsToggled(bool log);

private:
    QCheckBox* m_log;
    WeightHistogramPlot* m_weights;
    ErrorHistogramPlot* m_error;
    QLabel* m_note;
};

}  // namespace cwb::ui
