// The tensor browser (see tensor_browser.h).
#include "ui/llm/tensor_browser.h"

#include <QComboBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLineEdit>
#include <QLocale>
#include <QStandardItemModel>
#include <QTreeView>
#include <QVBoxLayout>
#include <cctype>
#include <cmath>
#include <map>
#include <numeric>

namespace cwb::ui {

namespace {

QString shapeText(const cwb::Shape& shape) {
    QStringList parts;
    for (auto d : shape) parts << QString::number(d);
    return parts.join(QStringLiteral(" \u00d7 "));
}

QStandardItem* cell(const QString& text, double sortValue, int role = -1) {
    auto* item = new QStandardItem(text);
    item->setEditable(false);
    item->setData(sortValue, TensorBrowser::kSortValue);
    item->setData(role, TensorBrowser::kRoleIndex);
    return item;
}

// Names compared with their runs of digits as numbers: "layers.2." before "layers.10.".
// (QCollator's numeric mode needs ICU, which a Qt build may lack.)
bool naturalLess(const std::string& a, const std::string& b) {
    std::size_t i = 0, j = 0;
    while (i < a.size() && j < b.size()) {
        const bool da = std::isdigit(static_cast<unsigned char>(a[i])) != 0;
        const bool db = std::isdigit(static_cast<unsigned char>(b[j])) != 0;
        if (da && db) {
            std::size_t ei = i, ej = j;
            while (ei < a.size() && std::isdigit(static_cast<unsigned char>(a[ei]))) ++ei;
            while (ej < b.size() && std::isdigit(static_cast<unsigned char>(b[ej]))) ++ej;
            // Leading zeros aside, the longer run is the larger number.
            std::size_t zi = i, zj = j;
            while (zi + 1 < ei && a[zi] == '0') ++zi;
            while (zj + 1 < ej && b[zj] == '0') ++zj;
            if (ei - zi != ej - zj) return ei - zi < ej - zj;
            const int c = a.compare(zi, ei - zi, b, zj, ej - zj);
            if (c != 0) return c < 0;
            i = ei, j = ej;
            continue;
        }
        if (a[i] != b[j]) return a[i] < b[j];
        ++i, ++j;
    }
    return a.size() - i < b.size() - j;
}

QString sqnrText(double db) {
    if (std::isinf(db)) return QStringLiteral("exact");
    return QStringLiteral("%1 dB").arg(db, 0, 'f', 1);
}

}  // namespace

void TensorFilterProxy::setPattern(const QString& glob) {
    const QString trimmed = glob.trimmed();
    m_all = trimmed.isEmpty();
    m_pattern = QRegularExpression(QRegularExpression::wildcardToRegularExpression(
                                       trimmed, QRegularExpression::UnanchoredWildcardConversion),
                                   QRegularExpression::CaseInsensitiveOption);
    invalidateFilter();
}

bool TensorFilterProxy::filterAcceptsRow(int sourceRow, const QModelIndex& sourceParent) const {
    const QModelIndex index = sourceModel()->index(sourceRow, 0, sourceParent);
    if (index.data(TensorBrowser::kRoleIndex).toInt() < 0)
        return false;  // a group: shown while one of its tensors is (recursive filtering)
    if (m_all) return true;
    return m_pattern.match(index.data(Qt::DisplayRole).toString()).hasMatch() ||
           m_pattern.match(index.data(Qt::ToolTipRole).toString()).hasMatch();
}

TensorBrowser::TensorBrowser(QWidget* parent) : QWidget(parent) {
    m_filter = new QLineEdit(this);
    m_filter->setObjectName("tensorFilter");
    m_filter->setPlaceholderText(tr("Filter: blk.*.ffn_down, *q_proj*"));
    m_filter->setClearButtonEnabled(true);
    m_group = new QComboBox(this);
    m_group->setObjectName("tensorGrouping");
    m_group->addItem(tr("All tensors"), int(Grouping::None));
    m_group->addItem(tr("By block"), int(Grouping::Block));
    m_group->addItem(tr("By kind"), int(Grouping::Kind));
    m_model = new QStandardItemModel(this);
    m_model->setHorizontalHeaderLabels({tr("Tensor"), tr("Shape"), tr("Type"), tr("Size"),
                                        tr("Bits/weight"), tr("Sparsity"), tr("SQNR")});
    m_proxy = new TensorFilterProxy(this);
    m_proxy->setSourceModel(m_model);
    m_proxy->setRecursiveFilteringEnabled(true);
    m_proxy->setSortRole(kSortValue);
    m_view = new QTreeView(this);
    m_view->setObjectName("tensorView");
    m_view->setModel(m_proxy);
    m_view->setSortingEnabled(true);
    m_view->setUniformRowHeights(true);
    m_view->setAlternatingRowColors(true);
    m_view->setSelectionMode(QAbstractItemView::SingleSelection);
    m_view->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_view->header()->setStretchLastSection(false);
    m_view->header()->setSectionResizeMode(Name, QHeaderView::Stretch);
    m_view->sortByColumn(-1, Qt::AscendingOrder);  // file order until a header is clicked

    auto* top = new QHBoxLayout;
    top->addWidget(m_filter, 1);
    top->addWidget(m_group);
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(4, 4, 4, 4);
    layout->setSpacing(4);
    layout->addLayout(top);
    layout->addWidget(m_view, 1);

    connect(m_filter, &QLineEdit::textChanged, this, [this](const QString& text) {
        m_proxy->setPattern(text);
        if (m_grouping != Grouping::None) m_view->expandAll();
    });
    connect(m_group, &QComboBox::currentIndexChanged, this,
            [this](int) { setGrouping(Grouping(m_group->currentData().toInt())); });
    connect(m_view->selectionModel(), &QItemSelectionModel::currentChanged, this,
            [this](const QModelIndex& current) { onCurrentChanged(current); });
}

void TensorBrowser::setSession(std::shared_ptr<const LlmSession> session) {
    m_session = std::move(session);
    m_figures.assign(m_session ? m_session->roles.size() : 0, LlmTensorFigures{});
    rebuild();
}

void TensorBrowser::setPattern(const QString& glob) { m_filter->setText(glob); }

void TensorBrowser::setGrouping(Grouping grouping) {
    if (grouping == m_grouping) return;
    m_grouping = grouping;
    m_group->setCurrentIndex(m_group->findData(int(grouping)));
    rebuild();
}

QList<QStandardItem*> TensorBrowser::tensorRow(int role, int nameRank) {
    const LlamaTensorRole& r = m_session->roles[std::size_t(role)];
    const Tensor& t = *r.tensor;
    const QLocale locale;
    QList<QStandardItem*> row;
    auto* name = cell(QString::fromStdString(r.fileName), nameRank, role);
    // The name sorts naturally (its rank among the names, numbers by value); the tooltip
    // carries llama.cpp's name, which the filter also matches.
    name->setToolTip(QString::fromStdString(r.llamaName));
    row << name;
    row << cell(shapeText(t.shape()), double(t.elements()), role);
    row << cell(QString::fromStdString(dtypeName(t.dtype())), double(int(t.dtype())), role);
    row << cell(locale.formattedDataSize(qint64(t.byteSize())), double(t.byteSize()), role);
    row << cell({}, 0.0, role) << cell({}, 0.0, role) << cell({}, 0.0, role);
    for (int c = Size; c < ColumnCount; ++c)
        row[c]->setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
    return row;
}

void TensorBrowser::rebuild() {
    m_model->removeRows(0, m_model->rowCount());
    m_rows.assign(m_session ? m_session->roles.size() : 0, {});
    if (!m_session) return;
    const auto& roles = m_session->roles;
    std::map<QString, QStandardItem*> groups;  // by key, in order of first appearance
    // Natural order of the names: blk.2 before blk.10, layers.9 before layers.10.
    std::vector<int> byName(roles.size());
    std::iota(byName.begin(), byName.end(), 0);
    std::stable_sort(byName.begin(), byName.end(), [&](int a, int b) {
        return naturalLess(roles[std::size_t(a)].fileName, roles[std::size_t(b)].fileName);
    });
    std::vector<int> rank(roles.size());
    for (std::size_t k = 0; k < byName.size(); ++k) rank[std::size_t(byName[k])] = int(k);
    for (std::size_t i = 0; i < roles.size(); ++i) {
        QList<QStandardItem*> row = tensorRow(int(i), rank[i]);
        m_rows[i] = row;
        if (m_grouping == Grouping::None) {
            m_model->appendRow(row);
            continue;
        }
        const LlamaTensorRole& r = roles[i];
        QString key;
        double sortKey = 0;
        if (m_grouping == Grouping::Block) {
            key = r.layer >= 0 ? tr("block %1").arg(r.layer) : tr("outside the blocks");
            sortKey = r.layer >= 0 ? r.layer : 1e9;
        } else {
            key = QString::fromStdString(llamaTensorKindName(r.kind));
            sortKey = double(int(r.kind));
        }
        QStandardItem*& group = groups[key];
        if (!group) {
            group = cell(key, sortKey, -1);
            QFont bold = group->font();
            bold.setBold(true);
            group->setFont(bold);
            QList<QStandardItem*> groupRow{group};
            for (int c = 1; c < ColumnCount; ++c) groupRow << cell({}, 0.0, -1);
            m_model->appendRow(groupRow);
        }
        group->appendRow(row);
    }
    for (auto& [key, group] : groups)
        group->setText(tr("%1 (%n tensors)", nullptr, group->rowCount()).arg(key));
    for (std::size_t i = 0; i < roles.size(); ++i) showFigures(int(i));
    if (m_grouping != Grouping::None) m_view->expandAll();
    m_view->resizeColumnToContents(Shape);
}

void TensorBrowser::setFigures(const QList<LlmTensorFigures>& figures) {
    for (const LlmTensorFigures& f : figures) {
        if (f.role < 0 || f.role >= int(m_figures.size())) continue;
        m_figures[std::size_t(f.role)] = f;
        showFigures(f.role);
    }
}

void TensorBrowser::markFiguresStale() {
    for (auto& f : m_figures) f.role = -1;
    for (std::size_t i = 0; i < m_figures.size(); ++i) showFigures(int(i));
}

void TensorBrowser::showFigures(int role) {
    const QList<QStandardItem*>& row = m_rows[std::size_t(role)];
    if (row.isEmpty()) return;
    const LlmTensorFigures& f = m_figures[std::size_t(role)];
    if (f.role < 0) {
        for (int c = Bits; c < ColumnCount; ++c) row[c]->setText({});
        return;
    }
    // "≈": measured on evenly spaced rows of a large tensor.
    const QString approx = f.sampled ? QStringLiteral("\u2248") : QString();
    row[Bits]->setText(QString::number(f.bitsPerWeight, 'f', 2));
    row[Bits]->setData(f.bitsPerWeight, kSortValue);
    row[Sparsity]->setText(f.compressed ? approx + QString::number(100 * f.sparsity, 'f', 1) + " %"
                                        : QString());
    row[Sparsity]->setData(f.sparsity, kSortValue);
    row[Sqnr]->setText(f.compressed ? approx + sqnrText(f.sqnrDb) : tr("as stored"));
    row[Sqnr]->setData(std::isinf(f.sqnrDb) ? 1e9 : f.sqnrDb, kSortValue);
    const QString tip = f.sampled ? tr("measured on evenly spaced rows of this tensor; select it "
                                       "for the exact figures")
                                  : QString();
    row[Sparsity]->setToolTip(tip);
    row[Sqnr]->setToolTip(tip);
}

void TensorBrowser::selectTensor(const QString& name) {
    if (!m_session) return;
    const auto& roles = m_session->roles;
    for (std::size_t i = 0; i < roles.size(); ++i) {
        if (!name.isEmpty() && QString::fromStdString(roles[i].fileName) != name &&
            QString::fromStdString(roles[i].llamaName) != name)
            continue;
        const QModelIndex source = m_model->indexFromItem(m_rows[i][0]);
        const QModelIndex index = m_proxy->mapFromSource(source);
        if (!index.isValid()) continue;
        m_view->setCurrentIndex(index);
        m_view->scrollTo(index);
        return;
    }
}

QList<int> TensorBrowser::visibleTensors() const {
    QList<int> out;
    std::function<void(const QModelIndex&)> walk = [&](const QModelIndex& parent) {
        for (int r = 0; r < m_proxy->rowCount(parent); ++r) {
            const QModelIndex index = m_proxy->index(r, 0, parent);
            const int role = index.data(kRoleIndex).toInt();
            if (role >= 0)
                out << role;
            else
                walk(index);
        }
    };
    walk({});
    return out;
}

void TensorBrowser::onCurrentChanged(const QModelIndex& current) {
    if (!current.isValid() || !m_session) return;
    const QModelIndex first = current.siblingAtColumn(0);
    const int role = first.data(kRoleIndex).toInt();
    if (role >= 0) {
        emit selectionChanged({role}, first.data(Qt::DisplayRole).toString());
        return;
    }
    QList<int> roles;  // the group's tensors that the filter shows
    for (int r = 0; r < m_proxy->rowCount(first); ++r)
        roles << m_proxy->index(r, 0, first).data(kRoleIndex).toInt();
    if (!roles.isEmpty()) emit selectionChanged(roles, first.data(Qt::DisplayRole).toString());
}

}  // namespace cwb::ui
