// The tensor browser, where the layer table is for Keras models: every tensor of the open
// checkpoint with its name, shape, dtype and size and, under the current settings, bits per
// weight, sparsity and SQNR. A name pattern (a glob matched against the file's name and
// llama.cpp's: `blk.*.ffn_down`, `*q_proj*`) filters it, it groups by block or by kind, and
// sorts by any column. Selecting a tensor or a group chooses what the histograms show.
#pragma once

#include <QList>
#include <QSortFilterProxyModel>
#include <QWidget>
#include <memory>
#include <vector>

#include "ui/llm/llm_session.h"
#include "ui/worker/llm_controller.h"

class QComboBox;
class QLineEdit;
class QStandardItem;
class QStandardItemModel;
class QTreeView;

namespace cwb::ui {

// Rows pass when their name or llama.cpp's name matches the glob; a group passes when one of
// its tensors does. Sorting is by each column's numeric value where it has one.
class TensorFilterProxy : public QSortFilterProxyModel {
    Q_OBJECT
public:
    using QSortFilterProxyModel::QSortFilterProxyModel;
    void setPattern(const QString& glob);

protected:
    bool filterAcceptsRow(int sourceRow, const QModelIndex& sourceParent) const override;

private:
    QRegularExpression m_pattern;
    bool m_all = true;
};

class TensorBrowser : public QWidget {
    Q_OBJECT
public:
    enum Column { Name, Shape, DTypeColumn, Size, Bits, Sparsity, Sqnr, ColumnCount };
    enum class Grouping { None, Block, Kind };
    // Item data: the role index (tensor rows; -1 for groups) and the value columns sort by.
    static constexpr int kRoleIndex = Qt::UserRole + 1;
    static constexpr int kSortValue = Qt::UserRole + 2;

    explicit TensorBrowser(QWidget* parent = nullptr);

    void setSession(std::shared_ptr<const LlmSession> session);  // null: empty
    void setFigures(const QList<LlmTensorFigures>& figures);
    // Forgets the figures (the settings changed; new ones follow).
    void markFiguresStale();
    void setPattern(const QString& glob);
    void setGrouping(Grouping grouping);
    Grouping grouping() const { return m_grouping; }
    // Selects the tensor with this file name (or llama.cpp name), or the first tensor when
    // empty; emits selectionChanged.
    void selectTensor(const QString& name);
    // The role indices of the visible tensor rows, in display order.
    QList<int> visibleTensors() const;

    QTreeView* view() const { return m_view; }
    QStandardItemModel* model() const { return m_model; }
    TensorFilterProxy* proxy() const { return m_proxy; }
    QLineEdit* filterEdit() const { return m_filter; }
    QComboBox* groupBox() const { return m_group; }

signals:
    // The tensors to show (role indices) and what to call them.
    void selectionChanged(const QList<int>& roles, const QString& label);

private:
    void rebuild();
    void onCurrentChanged(const QModelIndex& current);
    QList<QStandardItem*> tensorRow(int role, int nameRank);
    void showFigures(int role);

    std::shared_ptr<const LlmSession> m_session;
    std::vector<LlmTensorFigures> m_figures;    // by role; role == -1: none yet
    std::vector<QList<QStandardItem*>> m_rows;  // by role: the row's items in the model
    Grouping m_grouping = Grouping::None;
    QLineEdit* m_filter;
    QComboBox* m_group;
    QStandardItemModel* m_model;
    TensorFilterProxy* m_proxy;
    QTreeView* m_view;
};

}  // namespace cwb::ui
