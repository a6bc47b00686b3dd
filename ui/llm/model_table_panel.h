// The whole-model table of a language model: every 2-D tensor against each chosen llama.cpp
// block format, with the SQNR, bits per weight and size that format gives it, and a total
// row for the whole model. It fills in row by row with a progress bar, can be cancelled, and
// exports as CSV.
#pragma once

#include <QWidget>
#include <memory>
#include <optional>
#include <vector>

#include "core/model/dtype.h"
#include "core/util/csv.h"
#include "ui/worker/llm_controller.h"

class QLabel;
class QProgressBar;
class QPushButton;
class QStandardItemModel;
class QTableView;
class QToolButton;

namespace cwb::ui {

class ModelTablePanel : public QWidget {
    Q_OBJECT
public:
    explicit ModelTablePanel(LlmController* controller, QWidget* parent = nullptr);

    // Empties the table for the controller's session (a new checkpoint).
    void reset();
    // Fills the table; already running: starts again.
    void start();
    void cancel();
    // The formats of the columns; the next start() uses them.
    void setFormats(const std::vector<DType>& formats);
    const std::vector<DType>& formats() const { return m_formats; }
    // A last column for the window's alpha and rho (its settings when start() runs).
    void setSettingsColumn(bool on);
    bool settingsColumn() const { return m_withSettings; }
    // The table as CSV (tensor, shape, dtype, elements, then per format, and for the
    // settings' column under the prefix "settings", SQNR, bits per weight and bytes), or
    // written atomically to `path` (throws cwb::Error).
    std::string csv() const;
    void saveCsv(const QString& path) const;

    QTableView* view() const { return m_view; }
    QStandardItemModel* model() const { return m_model; }
    QProgressBar* progressBar() const { return m_progress; }
    QPushButton* startButton() const { return m_start; }
    QPushButton* cancelButton() const { return m_cancel; }
    int rowsDone() const { return static_cast<int>(m_rows.size()); }

signals:
    void finished(bool completed);

private:
    void addRow(const LlmTableRow& row);
    void updateTotal();
    void onFinished(bool completed, double seconds);
    void exportInteractive();
    CsvWriter table() const;

    LlmController* m_controller;
    std::vector<DType> m_formats;
    std::vector<DType> m_running;  // the formats of the rows in the table
    bool m_withSettings = true;
    std::optional<LayerSettings> m_runningSettings;  // the settings' column of those rows
    QString m_settingsLabel;
    int columns() const { return int(m_running.size()) + (m_runningSettings ? 1 : 0); }
    std::vector<LlmTableRow> m_rows;
    QStandardItemModel* m_model;
    QTableView* m_view;
    QToolButton* m_formatsButton;
    QPushButton* m_start;
    QPushButton* m_cancel;
    QPushButton* m_export;
    QProgressBar* m_progress;
    QLabel* m_status;
};

}  // namespace cwb::ui
