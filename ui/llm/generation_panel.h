// A prompt box and a short greedy continuation of it by the original model and by the
// compressed one, side by side, with the generation speed of each.
#pragma once

#include <QWidget>

#include "ui/worker/llm_measure_controller.h"

class QLabel;
class QLineEdit;
class QPlainTextEdit;
class QPushButton;
class QSpinBox;

namespace cwb::ui {

class GenerationPanel : public QWidget {
    Q_OBJECT
public:
    explicit GenerationPanel(QWidget* parent = nullptr);

    void setPrompt(const QString& prompt);
    QString prompt() const;
    void setTokens(int tokens);
    int tokens() const;
    void showGeneration(const LlmGeneration& generation);
    void setRunning(bool running);
    void clear();

    QLineEdit* promptEdit() const { return m_prompt; }
    QPushButton* generateButton() const { return m_generate; }
    QPlainTextEdit* originalText() const { return m_original; }
    QPlainTextEdit* compressedText() const { return m_compressed; }

signals:
    void generateRequested(const QString& prompt, int tokens);
    void cancelRequested();
    void promptChanged(const QString& prompt, int tokens);

private:
    QLineEdit* m_prompt;
    QSpinBox* m_tokens;
    QPushButton* m_generate;
    QPushButton* m_stop;
    QLabel* m_originalTitle;
    QLabel* m_compressedTitle;
    QPlainTextEdit* m_original;
    QPlainTextEdit* m_compressed;
};

}  // namespace cwb::ui
