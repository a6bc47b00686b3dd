// The list of evaluated settings (see evaluation_history.h).
#include "ui/settings/evaluation_history.h"

#include <algorithm>

#include "ui/settings/settings_field.h"

namespace cwb::ui {

namespace {
bool sameExcept(const WorkbenchSettings& a, const WorkbenchSettings& b, SweepParameter p) {
    WorkbenchSettings x = a;
    setSweepValue(x.plan, p, sweepValue(b.plan, p));
    return !WorkbenchSettings::evaluationDiffers(x, b);
}
}  // namespace

EvaluatedPoint makePoint(const WorkbenchSettings& settings, const ModelStats& stats,
                         const Accuracy& accuracy) {
    EvaluatedPoint p;
    p.settings = settings;
    p.samples = accuracy.samples;
    p.correct = accuracy.correct;
    p.accuracy = accuracy.fraction();
    p.latencyMs = accuracy.msPerSample();
    p.engine = QString::fromStdString(accuracy.engine);
    p.sizeBytes = double(stats.encodedBytes);
    p.sparsity = stats.weights.sparsity;
    p.effectiveBits = stats.weights.effectiveBits;
    return p;
}

EvaluationHistory::EvaluationHistory(QObject* parent) : QAbstractTableModel(parent) {}

void EvaluationHistory::add(const EvaluatedPoint& point) {
    for (int i = 0; i < m_points.size(); ++i) {
        if (WorkbenchSettings::evaluationDiffers(m_points[i].settings, point.settings)) continue;
        if (m_points[i].samples > point.samples) return;  // keep the better-measured one
        m_points[i] = point;
        emit dataChanged(index(i, 0), index(i, ColumnCount - 1));
        emit changed();
        return;
    }
    beginInsertRows({}, static_cast<int>(m_points.size()), static_cast<int>(m_points.size()));
    m_points.append(point);
    endInsertRows();
    emit changed();
}

void EvaluationHistory::clear() {
    beginResetModel();
    m_points.clear();
    endResetModel();
    emit changed();
}

QVector<EvaluatedPoint> EvaluationHistory::curve(const WorkbenchSettings& current,
                                                 SweepParameter p) const {
    QVector<EvaluatedPoint> out;
    for (const auto& point : m_points)
        if (sameExcept(point.settings, current, p)) out.append(point);
    std::sort(out.begin(), out.end(), [p](const EvaluatedPoint& a, const EvaluatedPoint& b) {
        return sweepValue(a.settings.plan, p) < sweepValue(b.settings.plan, p);
    });
    return out;
}

QVector<int> paretoFrontOf(const QVector<double>& sizes, const QVector<double>& scores) {
    QVector<int> front;
    for (int i = 0; i < sizes.size(); ++i) {
        bool dominated = false;
        for (int j = 0; j < sizes.size() && !dominated; ++j)
            dominated = j != i && sizes[j] <= sizes[i] && scores[j] >= scores[i] &&
                        (sizes[j] < sizes[i] || scores[j] > scores[i]);
        if (!dominated) front.append(i);
    }
    std::sort(front.begin(), front.end(), [&sizes](int a, int b) { return sizes[a] < sizes[b]; });
    return front;
}

QVector<int> EvaluationHistory::paretoFront() const {
    QVector<double> sizes, scores;
    for (const auto& p : m_points) {
        sizes.append(p.sizeBytes);
        scores.append(p.accuracy);
    }
    return paretoFrontOf(sizes, scores);
}

int EvaluationHistory::rowCount(const QModelIndex& parent) const {
    return parent.isValid() ? 0 : static_cast<int>(m_points.size());
}
int EvaluationHistory::columnCount(const QModelIndex& parent) const {
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant EvaluationHistory::cell(const EvaluatedPoint& p, int column) const {
    const auto& s = p.settings;
    const QuantSettings& q = s.plan.defaults.quant;
    switch (column) {
        case Alpha:
            return q.alpha;  // float: written with a float's digits ("0.05")
        case Rho:
            return s.plan.defaults.prune.rho;
        case Textbook:
            return s.plan.defaults.prune.method == PruneMethod::TextbookThreshold ? 1 : 0;
        case Bits:
            return q.bits;
        case Granularity:
            return QString::fromStdString(granularityName(q.granularity, q.groupSize));
        case Scheme:
            return QString::fromStdString(schemeName(q.scheme));
        case Floats:
            return static_cast<int>(keptFloatLayers(s.plan).size());
        case Samples:
            return p.samples;
        case Accuracy:
            return p.accuracy;
        case LatencyMs:
            return p.latencyMs;
        case SizeKB:
            return p.sizeBytes / 1024.0;
        case Sparsity:
            return p.sparsity;
        case EffBits:
            return p.effectiveBits;
        case Kernels:
            return QString::fromStdString(kernelChoiceName(s.kernels));
        case Engine:
            return p.engine;
        case Source:
            return p.fromSweep ? QStringLiteral("sweep") : QStringLiteral("slider");
    }
    return {};
}

QVariant EvaluationHistory::data(const QModelIndex& index, int role) const {
    if (!index.isValid() || index.row() >= m_points.size()) return {};
    const QVariant v = cell(m_points[index.row()], index.column());
    if (role == Qt::DisplayRole) {
        if (index.column() == Accuracy || index.column() == Sparsity)
            return QString::number(v.toDouble() * 100.0, 'f', 2) + " %";
        if (v.typeId() == QMetaType::Double || v.typeId() == QMetaType::Float)
            return QString::number(v.toDouble(), 'g', 5);
        return v;
    }
    if (role == Qt::UserRole) return v;
    return {};
}

QVariant EvaluationHistory::headerData(int section, Qt::Orientation orientation, int role) const {
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole) return {};
    static const char* names[] = {
        "alpha",   "rho",          "textbook_rho",   "bits",     "granularity",
        "scheme",  "float_layers", "samples",        "accuracy", "latency_ms_per_image",
        "size_kb", "sparsity",     "effective_bits", "kernels",  "engine",
        "source"};
    return section >= 0 && section < ColumnCount ? QString::fromLatin1(names[section]) : QVariant();
}

CsvWriter EvaluationHistory::table() const {
    CsvWriter csv;
    for (int c = 0; c < ColumnCount; ++c)
        csv.text(headerData(c, Qt::Horizontal, Qt::DisplayRole).toString().toStdString());
    csv.endRow();
    for (const auto& p : m_points) {
        for (int c = 0; c < ColumnCount; ++c) {
            const QVariant v = cell(p, c);
            if (v.typeId() == QMetaType::Double)
                csv.number(v.toDouble(), 10);
            else if (v.typeId() == QMetaType::Float)
                csv.number(v.toFloat(), 7);  // a float's digits: 0.05f is "0.05"
            else
                csv.text(v.toString().toStdString());
        }
        csv.endRow();
    }
    return csv;
}

}  // namespace cwb::ui
