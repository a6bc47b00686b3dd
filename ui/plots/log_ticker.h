// Ticks for a log axis at 1, 2 and 5 times powers of ten, labelled plainly ("0.02", "0.5"):
// QCustomPlot's log ticker labels only decades, or falls back to linear steps on short ranges.
#pragma once

#include <qcustomplot.h>

namespace cwb::ui {

class LogTicker125 : public QCPAxisTicker {
public:
    // The axis whose pixel length decides how many ticks fit (1-2-5, 1-3 or decades only).
    explicit LogTicker125(const QCPAxis* axis) : m_axis(axis) {}

protected:
    QVector<double> createTickVector(double tickStep, const QCPRange& range) override;
    QVector<double> createSubTickVector(int subTickCount, const QVector<double>& ticks) override;
    QString getTickLabel(double tick, const QLocale& locale, QChar formatChar,
                         int precision) override;

private:
    const QCPAxis* m_axis;
};

}  // namespace cwb::ui
