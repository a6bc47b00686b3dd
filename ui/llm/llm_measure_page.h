// The language-model measurement page: perplexity of the current compression (progressive,
// with its 95 % interval), its KL divergence and same-top-token rate against the original,
// prefill and generation tokens/s on the kernels of its dtypes; a sweep of α, ρ or block
// formats; size against perplexity with the Pareto front over everything tried; and a greedy
// generation of both models side by side. It takes from the window only the open checkpoint
// (with its tokenizer) and the current compression; its own choices (the text, the sweep, the
// prompt) are remembered and their changes are undo steps on the window's stack.
#pragma once

#include <QWidget>
#include <memory>

#include "ui/llm/llm_history.h"
#include "ui/util/csv_file.h"
#include "ui/worker/llm_measure_controller.h"

class QComboBox;
class QLabel;
class QLineEdit;
class QProgressBar;
class QPushButton;
class QSpinBox;
class QSplitter;
class QUndoStack;

namespace cwb::ui {

class GenerationPanel;
class LlmCurvePlot;
class ParetoPlot;
class PlotBase;

// The page's own choices: what is remembered and undone.
struct LlmPageChoices {
    QString textFile;  // empty: the bundled text
    LlmSweepKind sweepKind = LlmSweepKind::Alpha;
    QString alphaValues = QStringLiteral("0.005 0.01 0.02 0.03 0.05");
    QString rhoValues = QStringLiteral("0.005 0.01 0.02 0.03");
    QString formats = QStringLiteral("Q8_0 Q6_K Q5_K Q4_K Q4_0 Q3_K Q2_K");
    QString prompt = QStringLiteral("And the Lord said unto");
    int tokens = 32;
    int maxChunks = 0;  // 0: all
    bool operator==(const LlmPageChoices&) const = default;
};

class LlmMeasurePage : public QWidget {
    Q_OBJECT
public:
    explicit LlmMeasurePage(QWidget* parent = nullptr);
    ~LlmMeasurePage() override;

    // The open checkpoint and its tokenizer (null: none).
    void setModel(std::shared_ptr<const LlamaCheckpoint> checkpoint,
                  std::shared_ptr<const Tokenizer> tokenizer);
    // The current compression (from the window's settings).
    void setCompression(const LlmCompression& compression);
    // Measurements start only while active (the window: while the page is on screen, so that
    // opening a large checkpoint does not start a perplexity run that competes with the tensor
    // browser); what arrived meanwhile is measured on activation. Active by default.
    void setActive(bool active);
    bool isActive() const { return m_active; }
    // Undo steps of the page's choices go here (the window's stack); null: none.
    void setUndoStack(QUndoStack* stack) { m_undo = stack; }

    const LlmPageChoices& choices() const { return m_choices; }
    // Applies `choices` as one undo step (when a stack is set) named `what`.
    void editChoices(const LlmPageChoices& choices, const QString& what);
    // Applies without an undo step (start-up, undo and redo themselves).
    void applyChoices(const LlmPageChoices& choices);

    // Parses the sweep choices; false with `error` for a bad value or format name.
    bool sweepRequest(LlmSweepRequest& request, QString* error) const;
    void startSweep();
    bool writeCsv(const QString& path, QString* error) const {
        return writeCsvFile(path, m_history->table(), error);
    }

    LlmMeasureController* controller() const { return m_controller; }
    LlmHistory* history() const { return m_history; }
    QList<PlotBase*> plots() const;
    LlmCurvePlot* curvePlot() const { return m_curve; }
    ParetoPlot* paretoPlot() const { return m_pareto; }
    GenerationPanel* generationPanel() const { return m_generation; }
    QLabel* perplexityLabel() const { return m_perplexity; }
    QLabel* klLabel() const { return m_kl; }
    QLabel* speedLabel() const { return m_speed; }
    QPushButton* sweepButton() const { return m_sweepButton; }
    QPushButton* cancelButton() const { return m_cancelButton; }
    // The newest figures on display for the current compression and for the original.
    const LlmPoint& currentPoint() const { return m_current; }
    const LlmPoint& baselinePoint() const { return m_baseline; }

signals:
    void message(const QString& text);  // one line for the status bar

private:
    void buildUi();
    void catchUp();
    void showChoices();
    void onBaseline(const LlmPoint& point);
    void onCurrent(const LlmPoint& point);
    void refreshPlots();
    void showCurrentFigures();
    void openTextFile();
    void saveChoices() const;
    QString sweepText() const;

    LlmMeasureController* m_controller;
    LlmHistory* m_history;
    QUndoStack* m_undo = nullptr;
    LlmPageChoices m_choices;
    LlmCompression m_compression;
    std::shared_ptr<const LlamaCheckpoint> m_checkpoint;
    std::shared_ptr<const Tokenizer> m_tokenizer;
    bool m_active = true, m_modelPending = false, m_compressionPending = false;
    LlmPoint m_current, m_baseline;
    bool m_hasCurrent = false, m_hasBaseline = false;

    QLabel* m_text;
    QPushButton* m_openText;
    QPushButton* m_bundledText;
    QSpinBox* m_chunks;
    QLabel* m_perplexity;
    QLabel* m_kl;
    QLabel* m_speed;
    QProgressBar* m_progress;
    QComboBox* m_sweepKind;
    QLineEdit* m_sweepValues;
    QPushButton* m_sweepButton;
    QPushButton* m_cancelButton;
    QProgressBar* m_sweepProgress;
    QPushButton* m_exportCsv;
    QPushButton* m_exportPlots;
    LlmCurvePlot* m_curve;
    ParetoPlot* m_pareto;
    GenerationPanel* m_generation;
    QSplitter* m_rows;
};

}  // namespace cwb::ui
