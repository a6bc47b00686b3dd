// The language-model half of the window's worker: opening a checkpoint off the GUI thread
// and, once one is open, the latest-wins lanes that follow the settings.
//
// Lanes (LatestWinsLane, one thread and one pending slot each):
//   load     opening a checkpoint (mapping its files, reading its tokenizer)
//   tensor   the selected tensors under the newest settings: for large tensors a preview on
//            evenly spaced rows first, then the exact statistics
//   figures  bits per weight, sparsity and SQNR of every tensor for the browser, tensor by
//            tensor (on sampled rows for large tensors), after each settings change
//   table    every 2-D tensor x every block format of the whole-model table, row by row
// Anything that wants the open checkpoint reads session() and listens to sessionChanged();
// see ui/llm/llm_session.h.
#pragma once

#include <QList>
#include <QObject>
#include <QString>
#include <QTimer>
#include <memory>
#include <optional>
#include <vector>

#include "core/llm/llm_scheme_table.h"
#include "ui/llm/llm_session.h"
#include "ui/worker/latest_wins_lane.h"

namespace cwb::ui {

// What the histograms show: the selected tensors under `settings`.
struct LlmTensorView {
    WorkbenchSettings settings;
    QList<int> roles;                // indices into LlmSession::roles
    QString label;                   // the tensor's name, or the group's
    TensorStats stats;               // all selected tensors together (histograms on shared edges)
    std::vector<float> blockLevels;  // one tensor under a block format: its largest block's
    bool compressed = false;         // the settings change at least one of them
    bool exact = true;               // false: a preview on sampled rows
    qint64 rowsMeasured = 0, rowsTotal = 0;
    double bitsPerWeight = 0.0;
    double seconds = 0.0;  // time the job took
};

// One tensor's figures for the browser under the current settings.
struct LlmTensorFigures {
    int role = -1;
    double bitsPerWeight = 0.0, sparsity = 0.0, sqnrDb = 0.0;
    bool compressed = false;
    bool sampled = false;
};

// One row of the whole-model table.
struct LlmTableRow {
    int role = -1;
    std::vector<LlmSchemeCell> cells;  // one per column of the table
};

class LlmController : public QObject {
    Q_OBJECT
public:
    explicit LlmController(QObject* parent = nullptr);
    ~LlmController() override;

    // Starts opening `path` in the background; sessionChanged or loadFailed follows.
    void openCheckpoint(const QString& path);
    // Forgets the open checkpoint (a Keras model was opened); emits sessionChanged.
    void close();
    std::shared_ptr<const LlmSession> session() const { return m_session; }
    bool isLoading() const { return !m_load.isIdle(); }

    // The newest settings; the selected tensors and the browser's figures follow.
    void requestSettings(const WorkbenchSettings& settings);
    const WorkbenchSettings& settings() const { return m_settings; }
    // The tensors the histograms show (indices into the session's roles) and their label.
    void setSelection(const QList<int>& roles, const QString& label);
    QList<int> selection() const { return m_selection; }
    // The newest view that arrived (null before the first).
    std::shared_ptr<const LlmTensorView> view() const { return m_view; }

    // Where block formats are quantized and measured (the Device box's choice; null or the
    // CPU's: the CPU); a change measures the selection again.
    void setBackend(Backend* backend);
    Backend* backend() const { return m_backend; }

    // Tensors larger than this many values are previewed on sampled rows first.
    void setPreviewElements(qint64 elements) { m_previewElements = elements; }
    qint64 previewElements() const { return m_previewElements; }

    // The whole-model table over `formats`, and `settings` (the workbench's alpha and rho)
    // as a last column where given; tableRow() for each 2-D tensor, then tableFinished().
    // Cancelled by cancelTable() or a new checkpoint.
    void startTable(const std::vector<DType>& formats,
                    const std::optional<LayerSettings>& settings = std::nullopt);
    void cancelTable();
    bool isTableRunning() const { return !m_table.isIdle(); }

    // Nothing pending, nothing running (tests and the screenshot wait for this).
    bool isIdle() const;
    LatestWinsLane& loadLane() { return m_load; }
    LatestWinsLane& tensorLane() { return m_tensor; }
    LatestWinsLane& tableLane() { return m_table; }

signals:
    void loading(const QString& path);
    void sessionChanged();  // session() is new (null after close())
    void loadFailed(const QString& path, const QString& message);
    void viewReady();  // view() is new: a preview or the exact statistics
    void tensorFailed(const QString& message);
    void figuresReady(const QList<LlmTensorFigures>& figures);
    void figuresProgress(qint64 done, qint64 total);
    void tableRow(const LlmTableRow& row);
    void tableProgress(qint64 done, qint64 total);
    void tableFinished(bool completed, double seconds);
    void busyChanged(bool busy);

private:
    void submitTensor();
    void submitFigures();
    void updateBusy();

    QTimer m_coalesce;
    LatestWinsLane m_load{QStringLiteral("llm-load")};
    LatestWinsLane m_tensor{QStringLiteral("llm-tensor")};
    LatestWinsLane m_figures{QStringLiteral("llm-figures")};
    LatestWinsLane m_table{QStringLiteral("llm-table")};
    std::shared_ptr<const LlmSession> m_session;
    WorkbenchSettings m_settings;
    QList<int> m_selection;
    QString m_selectionLabel;
    std::shared_ptr<const LlmTensorView> m_view;
    // On the project's shared 2-core machine a Q4_K preview of 2^20 values took ~1 s
    // (bench/results/llm_window.md); 2^18 keeps K formats near a quarter of that.
    qint64 m_previewElements = 1 << 18;
    Backend* m_backend = nullptr;  // null: the CPU
    bool m_busy = false;
};

// Opens a checkpoint as the load lane does (tests and benchmarks call it directly). Throws
// cwb::Error with one line when the checkpoint cannot be read.
std::shared_ptr<const LlmSession> loadLlmSession(const QString& path, const JobContext* context);

// The selected tensors under `settings`, as the tensor lane computes them: with
// `sampleElements` > 0, each tensor on at most about that many values (whole rows, evenly
// spaced); 0: exactly. Block formats run on `backend` (null: the CPU). Throws cwb::Error for
// settings the core refuses.
LlmTensorView computeTensorView(const LlmSession& session, const QList<int>& roles,
                                const WorkbenchSettings& settings, qint64 sampleElements,
                                const Progress& progress = {}, Backend* backend = nullptr);

}  // namespace cwb::ui

Q_DECLARE_METATYPE(cwb::ui::LlmTableRow)
Q_DECLARE_METATYPE(cwb::ui::LlmTensorFigures)
