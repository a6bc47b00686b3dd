// The list of evaluated settings (see evaluation_history.h).
#include "ui/settings/evaluation_history.h"

#include <QSaveFile>
#include <QTextStream>
#include <algorithm>

namespace cwb::ui {

namespace {
bool sameExcept(const CompressionSettings& a, const CompressionSettings& b, Parameter p) {
    CompressionSettings x = a;
    setParameterValue(x, p, parameterValue(b, p));
    return !CompressionSettings::evaluationDiffers(x, b);
}

int floatLayers(const CompressionSettings& s) {
    int n = 0;
    for (auto o : s.overrides) n += o == LayerMode::KeepFloat;
    return n;
}
}  // namespace

EvaluationHistory::EvaluationHistory(QObject* parent) : QAbstractTableModel(parent) {}

void EvaluationHistory::add(const EvaluatedPoint& point) {
    for (int i = 0; i < m_points.size(); ++i) {
        if (CompressionSettings::evaluationDiffers(m_points[i].settings, point.settings)) continue;
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

QVector<EvaluatedPoint> EvaluationHistory::curve(const CompressionSettings& current,
                                                 Parameter p) const {
    QVector<EvaluatedPoint> out;
    for (const auto& point : m_points)
        if (sameExcept(point.settings, current, p)) out.append(point);
    std::sort(out.begin(), out.end(), [p](const EvaluatedPoint& a, const EvaluatedPoint& b) {
        return parameterValue(a.settings, p) < parameterValue(b.settings, p);
    });
    return out;
}

QVector<int> EvaluationHistory::paretoFront() const {
    QVector<int> front;
    for (int i = 0; i < m_points.size(); ++i) {
        const auto& a = m_points[i];
        bool dominated = false;
        for (int j = 0; j < m_points.size() && !dominated; ++j) {
            const auto& b = m_points[j];
            dominated = j != i && b.sizeBytes <= a.sizeBytes && b.accuracy >= a.accuracy &&
                        (b.sizeBytes < a.sizeBytes || b.accuracy > a.accuracy);
        }
        if (!dominated) front.append(i);
    }
    std::sort(front.begin(), front.end(),
              [this](int a, int b) { return m_points[a].sizeBytes < m_points[b].sizeBytes; });
    return front;
}

int EvaluationHistory::rowCount(const QModelIndex& parent) const {
    return parent.isValid() ? 0 : static_cast<int>(m_points.size());
}
int EvaluationHistory::columnCount(const QModelIndex& parent) const {
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant EvaluationHistory::cell(const EvaluatedPoint& p, int column) const {
    const auto& s = p.settings;
    switch (column) {
        case Alpha:
            return s.alpha;
        case Rho:
            return s.rho;
        case Textbook:
            return s.textbookRho ? 1 : 0;
        case Bits:
            return s.bits;
        case Granularity:
            return s.granularity;
        case Scheme:
            return s.scheme;
        case Floats:
            return floatLayers(s);
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
            return s.kernels;
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
        if (v.typeId() == QMetaType::Double) return QString::number(v.toDouble(), 'g', 5);
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

QString EvaluationHistory::toCsv() const {
    QString out;
    QTextStream s(&out);
    for (int c = 0; c < ColumnCount; ++c)
        s << (c ? "," : "") << headerData(c, Qt::Horizontal, Qt::DisplayRole).toString();
    s << "\n";
    for (const auto& p : m_points) {
        for (int c = 0; c < ColumnCount; ++c) {
            const QVariant v = cell(p, c);
            QString text = v.typeId() == QMetaType::Double ? QString::number(v.toDouble(), 'g', 10)
                                                           : v.toString();
            if (text.contains(',') || text.contains('"'))
                text = '"' + text.replace('"', "\"\"") + '"';
            s << (c ? "," : "") << text;
        }
        s << "\n";
    }
    return out;
}

bool EvaluationHistory::writeCsv(const QString& path, QString* error) const {
    QSaveFile file(path);  // atomic: temp file + rename on commit
    if (!file.open(QIODevice::WriteOnly | QIODevice::Text)) {
        if (error) *error = file.errorString();
        return false;
    }
    file.write(toCsv().toUtf8());
    if (!file.commit()) {
        if (error) *error = file.errorString();
        return false;
    }
    return true;
}

}  // namespace cwb::ui
