// The main page of plots (see compression_page.h).
#include "ui/window/compression_page.h"

#include <QCheckBox>
#include <QHBoxLayout>
#include <QSplitter>
#include <QVBoxLayout>

#include "ui/plots/error_histogram_plot.h"
#include "ui/plots/metric_curve_plot.h"
#include "ui/plots/pareto_plot.h"
#include "ui/plots/result_view.h"
#include "ui/plots/weight_histogram_plot.h"

namespace cwb::ui {

CompressionPage::CompressionPage(QWidget* parent) : QWidget(parent) {
    m_weights = new WeightHistogramPlot(this);
    m_error = new ErrorHistogramPlot(this);
    m_metric = new MetricCurvePlot(this);
    m_pareto = new ParetoPlot(this);
    m_log = new QCheckBox(tr("Log counts (Ctrl+L)"), this);
    m_log->setToolTip(
        tr("Counts on a log axis: shows the tails and the pruning spike at 0 together"));

    auto* top = new QSplitter(Qt::Horizontal, this);
    top->addWidget(m_weights);
    top->addWidget(m_error);
    top->setStretchFactor(0, 3);
    top->setStretchFactor(1, 2);
    auto* bottom = new QSplitter(Qt::Horizontal, this);
    bottom->addWidget(m_metric);
    bottom->addWidget(m_pareto);
    bottom->setStretchFactor(0, 1);
    bottom->setStretchFactor(1, 1);
    m_rows = new QSplitter(Qt::Vertical, this);
    m_rows->setObjectName("plotRows");
    m_rows->addWidget(top);
    m_rows->addWidget(bottom);
    m_rows->setChildrenCollapsible(false);

    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->setSpacing(0);
    layout->addWidget(m_rows, 1);

    connect(m_log, &QCheckBox::toggled, this, [this](bool on) {
        m_weights->setLogCounts(on);
        m_error->setLogCounts(on);
        emit logCountsToggled(on);
    });
}

QList<PlotBase*> CompressionPage::plots() const { return {m_weights, m_error, m_metric, m_pareto}; }

void CompressionPage::showResult(const CompressionResult& result, const QString& layer) {
    const TensorStats* stats = statsFor(result, layer);
    if (!stats) {
        m_weights->clearData(tr("%1 has no weights to compress").arg(layer));
        m_error->clearData({});
        return;
    }
    const QString scope = layer.isEmpty() ? tr("all layers") : layer;
    m_weights->setHistogram(histogramViewFor(result, layer), scope);
    m_error->setHistogram(edgesOf(stats->error), countsOf(stats->error), errorSummary(*stats));
}

void CompressionPage::showAccuracy(const AccuracyUpdate& u, SweepParameter active) {
    CurrentAccuracy c;
    c.x = sweepValue(u.settings.plan, active);
    c.accuracy = u.accuracy();
    c.low = u.low;
    c.high = u.high;
    c.samples = u.samples;
    c.total = u.total;
    c.valid = u.samples > 0;
    m_metric->setCurrent(c);
}

void CompressionPage::showHistory(const EvaluationHistory& history,
                                  const WorkbenchSettings& current, SweepParameter active) {
    m_metric->setCurve(history.curve(current, active), active);
    int currentIndex = -1;
    const auto& points = history.points();
    for (int i = 0; i < points.size(); ++i)
        if (!WorkbenchSettings::evaluationDiffers(points[i].settings, current)) currentIndex = i;
    m_pareto->setPoints(history, currentIndex);
}

void CompressionPage::setBaseline(const EvaluatedPoint& baseline) {
    m_metric->setBaseline(baseline.accuracy, baseline.latencyMs);
    m_pareto->setFloatSize(baseline.sizeBytes);
}

void CompressionPage::clearAll(const QString& message) {
    m_weights->clearData(message);
    m_error->clearData(message);
    clearAccuracy(message);
}

void CompressionPage::clearAccuracy(const QString& message) {
    m_metric->clearData(message);
    m_pareto->clearData(message);
}

void CompressionPage::setLogCounts(bool log) { m_log->setChecked(log); }
bool CompressionPage::logCounts() const { return m_log->isChecked(); }

}  // namespace cwb::ui
