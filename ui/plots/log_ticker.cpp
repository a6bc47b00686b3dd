// 1-2-5 log ticks (see log_ticker.h).
#include "ui/plots/log_ticker.h"

#include <cmath>

namespace cwb::ui {

QVector<double> LogTicker125::createTickVector(double, const QCPRange& range) {
    QVector<double> ticks;
    if (!(range.lower > 0) || !(range.upper > range.lower)) return ticks;
    const int first = static_cast<int>(std::floor(std::log10(range.lower)));
    const int last = static_cast<int>(std::ceil(std::log10(range.upper)));
    // Wide ranges: decades only, so labels never crowd.
    const bool decadesOnly = last - first > 4;
    for (int e = first; e <= last; ++e)
        for (double m : {1.0, 2.0, 5.0}) {
            if (decadesOnly && m != 1.0) continue;
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
