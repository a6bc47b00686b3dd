// 1-2-5 log ticks (see log_ticker.h).
#include "ui/plots/log_ticker.h"

#include <cmath>

namespace cwb::ui {

QVector<double> LogTicker125::createTickVector(double, const QCPRange& range) {
    QVector<double> ticks;
    if (!(range.lower > 0) || !(range.upper > range.lower)) return ticks;
    const int first = static_cast<int>(std::floor(std::log10(range.lower)));
    const int last = static_cast<int>(std::ceil(std::log10(range.upper)));
    // As many mantissas as fit: a label like "0.0005" needs ~55 px, so 1-2-5 (three labels
    // a decade) needs ~180 px per decade, 1-3 ~120 px, decades alone anything.
    const double decades = std::log10(range.upper / range.lower);
    const double pixelsPerDecade = m_axis ? m_axis->axisRect()->width() / decades : 200.0;
    QVector<double> mantissas{1.0};
    if (pixelsPerDecade >= 180)
        mantissas = {1.0, 2.0, 5.0};
    else if (pixelsPerDecade >= 120)
        mantissas = {1.0, 3.0};
    for (int e = first; e <= last; ++e)
        for (double m : mantissas) {
            const double v = m * std::pow(10.0, e);
            if (v >= range.lower && v <= range.upper) ticks.append(v);
        }
    return ticks;
}

QVector<double> LogTicker125::createSubTickVector(int, const QVector<double>&) { return {}; }

QString LogTicker125::getTickLabel(double tick, const QLocale& locale, QChar, int) {
    return locale.toString(tick, 'g', 3);
}

}  // namespace cwb::ui
