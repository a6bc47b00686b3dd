// The side-by-side generation panel (see generation_panel.h).
#include "ui/llm/generation_panel.h"

#include <QGridLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSpinBox>

namespace cwb::ui {

namespace {
QPlainTextEdit* makeTextBox(QWidget* parent) {
    auto* box = new QPlainTextEdit(parent);
    box->setReadOnly(true);
    box->setMinimumHeight(60);
    return box;
}

QString speedText(double tokensPerSecond) {
    return tokensPerSecond > 0 ? QObject::tr(" · %1 tokens/s").arg(tokensPerSecond, 0, 'f', 1)
                               : QString();
}
}  // namespace

GenerationPanel::GenerationPanel(QWidget* parent) : QWidget(parent) {
    m_prompt = new QLineEdit(this);
    m_prompt->setObjectName("llmPrompt");
    m_prompt->setPlaceholderText(tr("Prompt, e.g. And the Lord said unto"));
    m_prompt->setClearButtonEnabled(true);
    m_tokens = new QSpinBox(this);
    m_tokens->setRange(1, 512);
    m_tokens->setValue(32);
    m_tokens->setSuffix(tr(" tokens"));
    m_tokens->setToolTip(tr("How many tokens each model generates (greedy)"));
    m_generate = new QPushButton(tr("Generate"), this);
    m_generate->setToolTip(tr("Greedy continuation by the original and the compressed model"));
    m_stop = new QPushButton(tr("Stop"), this);
    m_stop->setEnabled(false);
    m_originalTitle = new QLabel(tr("<b>Original</b>"), this);
    m_compressedTitle = new QLabel(tr("<b>Compressed</b>"), this);
    m_original = makeTextBox(this);
    m_original->setObjectName("originalText");
    m_compressed = makeTextBox(this);
    m_compressed->setObjectName("compressedText");

    auto* row = new QHBoxLayout;
    row->addWidget(new QLabel(tr("Prompt:"), this));
    row->addWidget(m_prompt, 1);
    row->addWidget(m_tokens);
    row->addWidget(m_generate);
    row->addWidget(m_stop);
    auto* grid = new QGridLayout(this);
    grid->setContentsMargins(4, 4, 4, 4);
    grid->addLayout(row, 0, 0, 1, 2);
    grid->addWidget(m_originalTitle, 1, 0);
    grid->addWidget(m_compressedTitle, 1, 1);
    grid->addWidget(m_original, 2, 0);
    grid->addWidget(m_compressed, 2, 1);
    grid->setRowStretch(2, 1);

    auto request = [this] {
        if (!m_prompt->text().trimmed().isEmpty())
            emit generateRequested(m_prompt->text(), m_tokens->value());
    };
    connect(m_generate, &QPushButton::clicked, this, request);
    connect(m_prompt, &QLineEdit::returnPressed, this, request);
    connect(m_stop, &QPushButton::clicked, this, &GenerationPanel::cancelRequested);
    connect(m_prompt, &QLineEdit::editingFinished, this,
            [this] { emit promptChanged(m_prompt->text(), m_tokens->value()); });
    connect(m_tokens, &QSpinBox::valueChanged, this,
            [this](int n) { emit promptChanged(m_prompt->text(), n); });
}

void GenerationPanel::setPrompt(const QString& prompt) { m_prompt->setText(prompt); }
QString GenerationPanel::prompt() const { return m_prompt->text(); }
void GenerationPanel::setTokens(int tokens) { m_tokens->setValue(tokens); }
int GenerationPanel::tokens() const { return m_tokens->value(); }

void GenerationPanel::showGeneration(const LlmGeneration& g) {
    // The prompt in grey, then what each model made of it.
    auto show = [&g](QPlainTextEdit* box, const QString& text) {
        box->clear();
        QTextCursor cursor(box->document());
        QTextCharFormat prompt;
        prompt.setForeground(QColor(120, 120, 120));
        cursor.insertText(g.prompt, prompt);
        cursor.insertText(text, QTextCharFormat());
    };
    show(m_original, g.original);
    show(m_compressed, g.compressed);
    m_originalTitle->setText(tr("<b>Original</b>%1").arg(speedText(g.originalTokensPerSecond)));
    m_compressedTitle->setText(
        tr("<b>Compressed: %1</b>%2")
            .arg(g.compressionLabel.toHtmlEscaped(), speedText(g.compressedTokensPerSecond)));
}

void GenerationPanel::setRunning(bool running) {
    m_stop->setEnabled(running);
    m_generate->setText(running ? tr("Restart") : tr("Generate"));
}

void GenerationPanel::clear() {
    m_original->clear();
    m_compressed->clear();
    m_originalTitle->setText(tr("<b>Original</b>"));
    m_compressedTitle->setText(tr("<b>Compressed</b>"));
}

}  // namespace cwb::ui
