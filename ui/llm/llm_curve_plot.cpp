// Perplexity and KL against the swept setting (see llm_curve_plot.h).
#include "ui/llm/llm_curve_plot.h"

#include <algorithm>

#include "ui/plots/log_ticker.h"

namespace cwb::ui {

LlmCurvePlot::LlmCurvePlot(QWidget* parent)
    : SweepCurvePlot({tr("Perplexity and KL"), tr("perplexity"), tr("KL (nats)"), tr("perplexity"),
                      tr("KL from original")},
                     parent) {
    clearData(tr("no language model open"));
}

void LlmCurvePlot::setCurve(const QVector<LlmCurvePoint>& points, Axis axis) {
    m_axis = axis;
    m_points = points;
    std::sort(m_points.begin(), m_points.end(),
              [](const LlmCurvePoint& a, const LlmCurvePoint& b) { return a.x < b.x; });
    const bool log = axis != Axis::Bits;
    xAxis->setScaleType(log ? QCPAxis::stLogarithmic : QCPAxis::stLinear);
    if (log) {
        xAxis->setTicker(QSharedPointer<LogTicker125>::create(xAxis));
        xAxis->setLabel(
            (axis == Axis::Alpha ? tr("quantization step α") : tr("pruning threshold ρ")) +
            tr(", log scale"));
    } else {
        // Formats of the same size share a tick: "4.5" over their names stacked (side by
        // side they ran into the neighbouring tick's label on a narrow plot), so the sizes
        // stay on one line.
        QMap<double, QStringList> names;
        for (const LlmCurvePoint& p : m_points) names[p.x] << p.label;
        auto ticker = QSharedPointer<QCPAxisTickerText>::create();
        for (auto it = names.cbegin(); it != names.cend(); ++it)
            ticker->addTick(it.key(), QStringLiteral("%1\n%2")
                                          .arg(it.key(), 0, 'g', 3)
                                          .arg(it.value().join(QLatin1Char('\n'))));
        xAxis->setTicker(ticker);
        xAxis->setLabel(tr("bits per weight, block format"));
    }
    QVector<double> x, ppl, klx, kl;
    for (const LlmCurvePoint& p : m_points) {
        if (log && p.x <= 0) continue;
        x.append(p.x);
        ppl.append(p.perplexity);
        if (p.kl >= 0) {
            klx.append(p.x);
            kl.append(p.kl);
        }
    }
    m_main->setData(x, ppl, true);
    m_second->setData(klx, kl, true);
    const QString symbol = axis == Axis::Alpha ? QStringLiteral("α")
                           : axis == Axis::Rho ? QStringLiteral("ρ")
                                               : tr("block format");
    setTitle(tr("Perplexity and KL vs %1").arg(symbol));
    if (!x.isEmpty() || m_cur.valid) setMessage({});
    updateRanges();
}

void LlmCurvePlot::setBaseline(double perplexity) {
    m_baselinePerplexity = perplexity;
    showBaseline(perplexity > 0, perplexity, tr("original: %1").arg(perplexity, 0, 'f', 2));
    updateRanges();
}

void LlmCurvePlot::setCurrent(const LlmCurrentPoint& current) {
    m_cur = current;
    m_current->data()->clear();
    m_currentError->data()->clear();
    const bool onAxis = m_axis == Axis::Bits || current.x > 0;
    if (current.valid && onAxis) {
        m_current->addData(current.x, current.perplexity);
        // The interval says how far a partial figure may still move; once every chunk is
        // scored it would only hide the (paired, much smaller) differences between settings.
        if (current.chunks < current.totalChunks)
            m_currentError->setData(QVector<double>{current.perplexity - current.low},
                                    QVector<double>{current.high - current.perplexity});
    }
    if (current.valid) setMessage({});
    updateRanges();
}

void LlmCurvePlot::clearData(const QString& message) {
    clearGraphs();
    m_cur = {};
    m_points.clear();
    setBaseline(-1);
    setMessage(message);
}

void LlmCurvePlot::updateRanges() {
    Extent e = dataExtent();
    if (!m_currentError->data()->isEmpty()) {
        e.add(m_cur.x, m_cur.low);
        e.add(m_cur.x, m_cur.high);
    } else if (!m_current->data()->isEmpty()) {
        e.add(m_cur.x, m_cur.perplexity);
    }
    if (m_baselinePerplexity > 0) e.addY(m_baselinePerplexity);
    if (m_axis == Axis::Bits) {
        if (e.xmax < e.xmin) {
            e.xmin = 2;
            e.xmax = 9;
        }
        xAxis->setRange(e.xmin - 0.6, e.xmax + 0.6);
    } else {
        if (e.xmax <= 0) {
            e.xmin = 1e-3;
            e.xmax = 0.1;
        }
        xAxis->setRange(logAxisRange(e.xmin, e.xmax));
    }
    if (e.ymax < e.ymin) {
        e.ymin = 0;
        e.ymax = 1;
    }
    const double pad = std::max(0.02 * e.ymax, 0.08 * (e.ymax - e.ymin));
    yAxis->setRange(std::max(0.0, e.ymin - pad), e.ymax + pad);
    finishRanges(e);
}

}  // namespace cwb::ui
