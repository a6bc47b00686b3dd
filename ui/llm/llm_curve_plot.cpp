// Perplexity and KL against the swept setting (see llm_curve_plot.h).
#include "ui/llm/llm_curve_plot.h"

#include <algorithm>
#include <cmath>

#include "ui/plots/log_ticker.h"

namespace cwb::ui {

LlmCurvePlot::LlmCurvePlot(QWidget* parent) : PlotBase(tr("Perplexity and KL"), parent) {
    styleAxis(xAxis, {});
    styleAxis(yAxis, tr("perplexity"));
    styleAxis(yAxis2, tr("KL divergence (nats)"));
    yAxis2->setVisible(true);
    yAxis2->setLabelColor(palette::secondary);
    yAxis2->setTickLabelColor(palette::secondary);
    yAxis->setLabelColor(palette::compressed.darker(130));

    m_perplexity = addGraph(xAxis, yAxis);
    m_perplexity->setName(tr("perplexity"));
    m_perplexity->setPen(QPen(palette::compressed, 2.2));
    m_perplexity->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssDisc, 7));
    m_kl = addGraph(xAxis, yAxis2);
    m_kl->setName(tr("KL from original"));
    m_kl->setPen(QPen(palette::secondary, 1.6, Qt::DashLine));
    m_kl->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssSquare, 6));
    m_current = addGraph(xAxis, yAxis);
    m_current->setName(tr("current setting"));
    m_current->setLineStyle(QCPGraph::lsNone);
    m_current->setScatterStyle(
        QCPScatterStyle(QCPScatterStyle::ssCircle, QPen(palette::accent, 2.5), Qt::NoBrush, 15));
    m_currentError = new QCPErrorBars(xAxis, yAxis);
    m_currentError->setDataPlottable(m_current);
    m_currentError->setPen(QPen(palette::accent, 2));
    m_currentError->removeFromLegend();

    m_baseline = new QCPItemStraightLine(this);
    m_baseline->setPen(QPen(palette::original, 1.5, Qt::DashLine));
    m_baseline->setVisible(false);
    m_baselineText = new QCPItemText(this);
    m_baselineText->setPositionAlignment(Qt::AlignLeft | Qt::AlignBottom);
    m_baselineText->position->setTypeX(QCPItemPosition::ptAxisRectRatio);
    m_baselineText->position->setTypeY(QCPItemPosition::ptPlotCoords);
    m_baselineText->setColor(palette::original);
    m_baselineText->setFont(plotFont(-1));
    m_baselineText->setVisible(false);

    placeLegendUnderTitle();
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
        // Formats of the same size share a tick: "Q4_0/Q4_K" over "4.5".
        QMap<double, QStringList> names;
        for (const LlmCurvePoint& p : m_points) names[p.x] << p.label;
        auto ticker = QSharedPointer<QCPAxisTickerText>::create();
        for (auto it = names.cbegin(); it != names.cend(); ++it)
            ticker->addTick(it.key(), QStringLiteral("%1\n%2")
                                          .arg(it.value().join(QLatin1Char('/')))
                                          .arg(it.key(), 0, 'g', 3));
        xAxis->setTicker(ticker);
        xAxis->setLabel(tr("block format, bits per weight"));
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
    m_perplexity->setData(x, ppl, true);
    m_kl->setData(klx, kl, true);
    const QString symbol = axis == Axis::Alpha ? QStringLiteral("α")
                           : axis == Axis::Rho ? QStringLiteral("ρ")
                                               : tr("block format");
    setTitle(tr("Perplexity and KL vs %1").arg(symbol));
    if (!x.isEmpty() || m_cur.valid) setMessage({});
    updateRanges();
}

void LlmCurvePlot::setBaseline(double perplexity) {
    m_baselinePerplexity = perplexity;
    const bool known = perplexity > 0;
    m_baseline->setVisible(known);
    m_baselineText->setVisible(known);
    if (known) {
        m_baseline->point1->setCoords(1e-9, perplexity);
        m_baseline->point2->setCoords(1, perplexity);
        m_baselineText->position->setCoords(0.02, perplexity);
        m_baselineText->setText(tr("original: %1").arg(perplexity, 0, 'f', 2));
    }
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
    m_perplexity->data()->clear();
    m_kl->data()->clear();
    m_current->data()->clear();
    m_currentError->data()->clear();
    m_cur = {};
    m_points.clear();
    setBaseline(-1);
    setMessage(message);
}

void LlmCurvePlot::updateRanges() {
    double xmin = 1e300, xmax = -1e300, pmin = 1e300, pmax = -1e300, kmax = 0;
    auto take = [&](double x, double p) {
        xmin = std::min(xmin, x);
        xmax = std::max(xmax, x);
        pmin = std::min(pmin, p);
        pmax = std::max(pmax, p);
    };
    for (auto it = m_perplexity->data()->constBegin(); it != m_perplexity->data()->constEnd(); ++it)
        take(it->key, it->value);
    for (auto it = m_kl->data()->constBegin(); it != m_kl->data()->constEnd(); ++it)
        kmax = std::max(kmax, it->value);
    if (!m_currentError->data()->isEmpty()) {
        take(m_cur.x, m_cur.low);
        take(m_cur.x, m_cur.high);
    } else if (!m_current->data()->isEmpty()) {
        take(m_cur.x, m_cur.perplexity);
    }
    if (m_baselinePerplexity > 0) {
        pmin = std::min(pmin, m_baselinePerplexity);
        pmax = std::max(pmax, m_baselinePerplexity);
    }
    if (m_axis == Axis::Bits) {
        if (xmax < xmin) {
            xmin = 2;
            xmax = 9;
        }
        xAxis->setRange(xmin - 0.6, xmax + 0.6);
    } else {
        if (xmax <= 0) {
            xmin = 1e-3;
            xmax = 0.1;
        }
        // At least a decade and a half, so the log axis has labelled decades to read from.
        double lo = xmin / 1.6, hi = xmax * 1.6;
        if (hi / lo < 30) {
            const double centre = std::sqrt(lo * hi);
            lo = centre / std::sqrt(30.0);
            hi = centre * std::sqrt(30.0);
        }
        xAxis->setRange(lo, hi);
    }
    if (pmax < pmin) {
        pmin = 0;
        pmax = 1;
    }
    const double pad = std::max(0.02 * pmax, 0.08 * (pmax - pmin));
    yAxis->setRange(std::max(0.0, pmin - pad), pmax + pad);
    yAxis2->setRange(0, kmax > 0 ? kmax * 1.25 : 1);
    queueReplot();
}

}  // namespace cwb::ui
