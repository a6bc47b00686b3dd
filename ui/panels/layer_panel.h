// The layer table: every layer with its type, shape and parameter count, and after each
// compression its sparsity, effective bits and SQNR as the core measured them. Selecting a
// row (or "All layers") chooses what the histograms show; a checkbox keeps a layer float32
// and the context menu compresses only one layer.
#pragma once

#include <QMap>
#include <QVariant>
#include <QWidget>
#include <vector>

#include "core/compress/compress_model.h"
#include "core/model/model.h"
#include "ui/settings/settings_field.h"

class QStandardItemModel;
class QTableView;

namespace cwb::ui {

class LayerPanel : public QWidget {
    Q_OBJECT
public:
    enum Column {
        Name,
        Type,
        Shape,
        Params,
        Sparsity,
        Bits,
        Sqnr,
        Kernel,
        Sensitivity,
        KeepFloat,
        ColumnCount
    };

    explicit LayerPanel(QWidget* parent = nullptr);

    void setModel(const Model* model);  // null: empty table
    void setStats(const std::vector<LayerStats>& layers, const ModelStats& total);
    // The keep-float checkboxes (KeepFloat) and the only-layer italics (OnlyLayer), without
    // emitting fieldEdited; other fields are not this panel's.
    void showSettings(const WorkbenchSettings& settings, SettingsField field);
    // The kernel that ran each layer in the last measurement (empty: float32 engine).
    void setKernelPaths(const QMap<QString, QString>& pathByLayer);
    // Accuracy drop with only that layer compressed (fraction); an empty map clears the column.
    void setSensitivity(const QMap<QString, double>& dropByLayer, int samples);
    // Selects a layer by name ("" = all layers), without emitting layerSelected.
    void selectLayer(const QString& name);
    QString selectedLayer() const { return m_selected; }
    QTableView* view() const { return m_view; }
    QStandardItemModel* table() const { return m_table; }

signals:
    void layerSelected(const QString& name);  // "" = all layers
    // KeepFloat (the checked layers) or OnlyLayer (a name; "" = all layers again).
    void fieldEdited(SettingsField field, const QVariant& value);

private:
    void showContextMenu(const QPoint& pos);
    void showOnlyLayer(const QString& only);
    int rowOf(const QString& name) const;
    QStandardItemModel* m_table;
    QTableView* m_view;
    QString m_selected;
    bool m_updating = false;
};

}  // namespace cwb::ui
