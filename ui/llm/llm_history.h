// Every language-model setting measured in this session, for the perplexity curve, the
// size-vs-perplexity Pareto plot and the CSV export. A point replaces an earlier one of the
// same compression unless that one scored more tokens.
#pragma once

#include <QObject>
#include <QVector>

#include "core/util/csv.h"
#include "ui/worker/llm_measure_job.h"

namespace cwb::ui {

class LlmHistory : public QObject {
    Q_OBJECT
public:
    explicit LlmHistory(QObject* parent = nullptr);

    void add(const LlmPoint& point);
    void clear();
    const QVector<LlmPoint>& points() const { return m_points; }
    // Index of the point of `compression`, or -1.
    int indexOf(const LlmCompression& compression) const;
    // Pareto front of size against perplexity (lower is better), smallest first.
    QVector<int> paretoFront() const;

    // The CSV export: a header row, then one row per point (ui/util/csv_file.h writes it).
    CsvWriter table() const;

signals:
    void changed();

private:
    QVector<LlmPoint> m_points;
};

}  // namespace cwb::ui
