// Every setting that has been evaluated, in the order it was: the accuracy-vs-parameter
// and Pareto plots draw from it and File > Export writes it as CSV. A table model so that
// a view can show it as it is.
#pragma once

#include <QAbstractTableModel>
#include <QVector>

#include "core/compress/compression_settings.h"
#include "core/measure/measurer.h"
#include "core/measure/sweep.h"
#include "core/util/csv.h"

namespace cwb::ui {

struct EvaluatedPoint {
    WorkbenchSettings settings;
    int samples = 0;  // images evaluated
    int correct = 0;
    double accuracy = 0.0;       // fraction
    double latencyMs = 0.0;      // measured wall time per image of the forward pass, ms
    QString engine;              // which engine ran, e.g. "cpu float32"
    double sizeBytes = 0.0;      // the compressed model's storage size, as core counts it
    double sparsity = 0.0;       // fraction of exact zeros in the compressed kernels
    double effectiveBits = 0.0;  // bits per weight, as core counts it
    bool fromSweep = false;
};

// Indices of the points on the Pareto front of (size, score), smallest size first: no other
// point is both no larger and no worse, and better in one. Higher scores are better.
QVector<int> paretoFrontOf(const QVector<double>& sizes, const QVector<double>& scores);

// One row from a compression's statistics and a measurement of it.
EvaluatedPoint makePoint(const WorkbenchSettings& settings, const ModelStats& stats,
                         const Accuracy& accuracy);

class EvaluationHistory : public QAbstractTableModel {
    Q_OBJECT
public:
    enum Column {
        Alpha,
        Rho,
        Textbook,
        Bits,
        Granularity,
        Scheme,
        Floats,
        Samples,
        Accuracy,
        LatencyMs,
        SizeKB,
        Sparsity,
        EffBits,
        Kernels,
        Engine,
        Source,
        ColumnCount
    };

    explicit EvaluationHistory(QObject* parent = nullptr);

    // Adds a point, replacing an earlier one with the same settings and no more samples.
    void add(const EvaluatedPoint& point);
    void clear();
    const QVector<EvaluatedPoint>& points() const { return m_points; }

    // Points that differ from `current` only in parameter `p`, sorted by that parameter.
    QVector<EvaluatedPoint> curve(const WorkbenchSettings& current, SweepParameter p) const;
    // Indices of the points on the Pareto front (no other point is both smaller and more accurate).
    QVector<int> paretoFront() const;

    // The CSV export: a header row, then one row per point (ui/util/csv_file.h writes it).
    CsvWriter table() const;

    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role) const override;

signals:
    void changed();

private:
    QVariant cell(const EvaluatedPoint& p, int column) const;
    QVector<EvaluatedPoint> m_points;
};

}  // namespace cwb::ui

Q_DECLARE_METATYPE(cwb::ui::EvaluatedPoint)
