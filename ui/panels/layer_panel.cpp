// The layer table (see layer_panel.h).
#include "ui/panels/layer_panel.h"

#include <QHeaderView>
#include <QMenu>
#include <QStandardItemModel>
#include <QTableView>
#include <QVBoxLayout>
#include <cmath>

namespace cwb::ui {

namespace {
constexpr int kNameRole = Qt::UserRole + 1;

QStandardItem* cell(const QString& text, Qt::Alignment align = Qt::AlignLeft | Qt::AlignVCenter) {
    auto* item = new QStandardItem(text);
    item->setEditable(false);
    item->setTextAlignment(align);
    return item;
}

QString sqnrText(double db) {
    if (std::isinf(db)) return QStringLiteral("exact");
    return QString::number(db, 'f', 1);
}
}  // namespace

LayerPanel::LayerPanel(QWidget* parent) : QWidget(parent) {
    m_table = new QStandardItemModel(0, ColumnCount, this);
    m_table->setHorizontalHeaderLabels({tr("Layer"), tr("Type"), tr("Shape"), tr("Params"),
                                        tr("Sparsity"), tr("Bits"), tr("SQNR (dB)"), tr("Kernel"),
                                        tr("\u0394acc alone"), tr("Keep float")});
    m_table->horizontalHeaderItem(Sensitivity)
        ->setToolTip(tr("Accuracy lost with only this layer compressed at the current settings "
                        "(Run \u25b8 Layer sensitivity)"));
    m_view = new QTableView(this);
    m_view->setModel(m_table);
    m_view->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_view->setSelectionMode(QAbstractItemView::SingleSelection);
    m_view->verticalHeader()->setVisible(false);
    m_view->verticalHeader()->setDefaultSectionSize(m_view->fontMetrics().height() + 6);
    m_view->horizontalHeader()->setStretchLastSection(false);
    m_view->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
    m_view->horizontalHeader()->setSectionResizeMode(Name, QHeaderView::Stretch);
    m_view->setAlternatingRowColors(true);
    m_view->setContextMenuPolicy(Qt::CustomContextMenu);
    m_view->setToolTip(
        tr("Select a layer to show its histograms; right-click to compress only that layer."));
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(m_view);

    connect(m_view->selectionModel(), &QItemSelectionModel::currentRowChanged, this,
            [this](const QModelIndex& current) {
                if (m_updating || !current.isValid()) return;
                m_selected = m_table->item(current.row(), Name)->data(kNameRole).toString();
                emit layerSelected(m_selected);
            });
    connect(m_table, &QStandardItemModel::itemChanged, this, [this](QStandardItem* item) {
        if (m_updating || item->column() != KeepFloat) return;
        QStringList kept;
        for (int row = 1; row < m_table->rowCount(); ++row)
            if (m_table->item(row, KeepFloat)->checkState() == Qt::Checked)
                kept << m_table->item(row, Name)->data(kNameRole).toString();
        emit fieldEdited(SettingsField::KeepFloat, kept);
    });
    connect(m_view, &QWidget::customContextMenuRequested, this, &LayerPanel::showContextMenu);
    setModel(nullptr);
}

void LayerPanel::setModel(const Model* model) {
    m_updating = true;
    m_table->removeRows(0, m_table->rowCount());
    auto* all = cell(tr("All layers"));
    all->setData(QString(), kNameRole);
    QFont bold = all->font();
    bold.setBold(true);
    all->setFont(bold);
    QList<QStandardItem*> first{
        all,
        cell(model ? tr("model") : QString()),
        cell({}),
        cell(model ? QLocale().toString(model->parameterCount()) : QString(),
             Qt::AlignRight | Qt::AlignVCenter),
        cell({}),
        cell({}),
        cell({}),
        cell({}),
        cell({}),
        cell({})};
    m_table->appendRow(first);
    if (model) {
        for (const Layer& layer : model->layers) {
            auto* name = cell(QString::fromStdString(layer.name));
            name->setData(QString::fromStdString(layer.name), kNameRole);
            const cwb::Shape shape = layer.hasKernel() ? layer.kernel.shape() : layer.outputShape;
            auto* keep = cell({});
            if (layer.hasKernel()) {
                keep->setCheckable(true);
                keep->setCheckState(Qt::Unchecked);
                keep->setToolTip(tr("Keep this layer float32"));
            }
            const auto right = Qt::AlignRight | Qt::AlignVCenter;
            m_table->appendRow({name, cell(QString::fromStdString(layer.className)),
                                cell(QString::fromStdString(shapeToString(shape))),
                                cell(QLocale().toString(layer.parameterCount()), right),
                                cell({}, right), cell({}, right), cell({}, right), cell({}),
                                cell({}, right), keep});
        }
    }
    m_updating = false;
    selectLayer(m_selected);
    if (rowOf(m_selected) < 0) selectLayer({});
}

void LayerPanel::setStats(const std::vector<LayerStats>& layers, const ModelStats& total) {
    m_updating = true;
    auto fill = [this](int row, const TensorStats& k, bool compressed) {
        m_table->item(row, Sparsity)->setText(QString::number(k.sparsity * 100, 'f', 1) + " %");
        m_table->item(row, Bits)->setText(
            compressed && k.effectiveBits > 0 ? QString::number(k.effectiveBits) : tr("float"));
        m_table->item(row, Sqnr)->setText(compressed ? sqnrText(k.sqnrDb)
                                                     : QStringLiteral("\u2014"));
    };
    fill(0, total.weights, true);
    for (const LayerStats& ls : layers) {
        const int row = rowOf(QString::fromStdString(ls.name));
        if (row > 0) fill(row, ls.kernel, ls.compressed);
    }
    m_updating = false;
}

void LayerPanel::setKernelPaths(const QMap<QString, QString>& pathByLayer) {
    m_updating = true;
    for (int row = 1; row < m_table->rowCount(); ++row) {
        const QString name = m_table->item(row, Name)->data(kNameRole).toString();
        const bool compute = m_table->item(row, KeepFloat)->isCheckable();  // Dense / Conv2D
        m_table->item(row, Kernel)
            ->setText(compute ? pathByLayer.value(name, tr("float32")) : QString());
    }
    m_updating = false;
}

void LayerPanel::setSensitivity(const QMap<QString, double>& dropByLayer, int samples) {
    m_updating = true;
    for (int row = 1; row < m_table->rowCount(); ++row) {
        const QString name = m_table->item(row, Name)->data(kNameRole).toString();
        QStandardItem* item = m_table->item(row, Sensitivity);
        if (!dropByLayer.contains(name)) {
            item->setText({});
            continue;
        }
        const double drop = dropByLayer.value(name) * 100;
        item->setText(
            QStringLiteral("%1%2 %").arg(drop > 0 ? "\u2212" : "+").arg(std::abs(drop), 0, 'f', 2));
        item->setToolTip(tr("on the first %L1 test images").arg(samples));
        item->setForeground(drop > 1.0 ? QColor(176, 0, 32) : QColor(Qt::black));
    }
    m_updating = false;
}

void LayerPanel::showSettings(const WorkbenchSettings& settings, SettingsField field) {
    if (field == SettingsField::OnlyLayer)
        showOnlyLayer(QString::fromStdString(settings.plan.onlyLayer));
    if (field != SettingsField::KeepFloat) return;
    const QStringList kept = keptFloatLayers(settings.plan);
    m_updating = true;
    for (int row = 1; row < m_table->rowCount(); ++row) {
        QStandardItem* keep = m_table->item(row, KeepFloat);
        if (!keep->isCheckable()) continue;
        const QString name = m_table->item(row, Name)->data(kNameRole).toString();
        keep->setCheckState(kept.contains(name) ? Qt::Checked : Qt::Unchecked);
    }
    m_updating = false;
}

void LayerPanel::showOnlyLayer(const QString& only) {
    m_updating = true;
    for (int row = 1; row < m_table->rowCount(); ++row) {
        if (!m_table->item(row, KeepFloat)->isCheckable()) continue;
        QStandardItem* name = m_table->item(row, Name);
        QFont font = name->font();
        font.setItalic(!only.isEmpty() && only != name->data(kNameRole).toString());
        name->setFont(font);
    }
    m_updating = false;
}

void LayerPanel::selectLayer(const QString& name) {
    const int row = rowOf(name);
    if (row < 0) return;
    m_updating = true;
    m_selected = name;
    m_view->selectRow(row);
    m_view->setCurrentIndex(m_table->index(row, Name));
    m_updating = false;
}

int LayerPanel::rowOf(const QString& name) const {
    for (int row = 0; row < m_table->rowCount(); ++row)
        if (m_table->item(row, Name)->data(kNameRole).toString() == name) return row;
    return -1;
}

void LayerPanel::showContextMenu(const QPoint& pos) {
    const QModelIndex index = m_view->indexAt(pos);
    const QString name =
        index.isValid() ? m_table->item(index.row(), Name)->data(kNameRole).toString() : QString();
    QMenu menu(this);
    if (!name.isEmpty()) {
        menu.addAction(tr("Compress only %1").arg(name), this, [this, name] {
            showOnlyLayer(name);  // the owner tells every panel but the one that asked
            emit fieldEdited(SettingsField::OnlyLayer, name);
        });
    }
    menu.addAction(tr("Compress all layers"), this, [this] {
        showOnlyLayer({});
        emit fieldEdited(SettingsField::OnlyLayer, QString());
    });
    menu.exec(m_view->viewport()->mapToGlobal(pos));
}

}  // namespace cwb::ui
