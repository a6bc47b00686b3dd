// The language-model controls (see llm_format_panel.h).
#include "ui/llm/llm_format_panel.h"

#include <QComboBox>
#include <QFormLayout>
#include <QGroupBox>
#include <QLabel>
#include <QVBoxLayout>

namespace cwb::ui {

LlmFormatPanel::LlmFormatPanel(QWidget* parent) : QWidget(parent) {
    auto* box = new QGroupBox(tr("Language model: llama.cpp block format"), this);
    auto* form = new QFormLayout(box);
    form->setFieldGrowthPolicy(QFormLayout::AllNonFixedFieldsGrow);
    m_format = new QComboBox(box);
    m_format->setObjectName("llmFormatBox");
    m_format->addItem(tr("none: \u03b1, \u03c1 and k-bit above"), QString());
    for (const std::string& name : llmFormatNames()) {
        const QString n = QString::fromStdString(name);
        DType type{};
        parseDType(name, type);
        const double bits = 8.0 * double(dtypeBlockBytes(type)) / double(dtypeBlockSize(type));
        m_format->addItem(tr("%1 (%2 bits/weight)").arg(n).arg(bits, 0, 'f', 2), n);
    }
    m_format->setToolTip(
        tr("Quantize with llama.cpp's reference quantizer for this block format (no importance "
           "matrix). \u03b1, \u03c1 and k-bit then do not apply."));
    form->addRow(tr("Format"), m_format);
    m_scope = new QComboBox(box);
    m_scope->setObjectName("llmScopeBox");
    m_scope->addItem(tr("block matrices (q, k, v, o, gate, up, down)"),
                     QString::fromStdString(llmScopeName(LlmScope::Blocks)));
    m_scope->addItem(tr("every 2-D tensor (--pure)"),
                     QString::fromStdString(llmScopeName(LlmScope::All)));
    form->addRow(tr("Scope"), m_scope);
    m_note = new QLabel(box);
    m_note->setWordWrap(true);
    form->addRow(m_note);
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(box);

    connect(m_format, &QComboBox::currentIndexChanged, this,
            [this](int) { edit(SettingsField::LlmFormat, m_format->currentData()); });
    connect(m_scope, &QComboBox::currentIndexChanged, this,
            [this](int) { edit(SettingsField::LlmScope, m_scope->currentData()); });
    const WorkbenchSettings defaults;
    for (SettingsField field : kSettingsFields) showSettings(defaults, field);
}

void LlmFormatPanel::edit(SettingsField field, const QVariant& value) {
    if (!m_updating) emit fieldEdited(field, value);
}

void LlmFormatPanel::showSettings(const WorkbenchSettings& s, SettingsField field) {
    m_updating = true;
    switch (field) {
        case SettingsField::LlmFormat:
            m_format->setCurrentIndex(
                std::max(0, m_format->findData(QString::fromStdString(s.llm.format))));
            break;
        case SettingsField::LlmScope:
            m_scope->setCurrentIndex(
                std::max(0, m_scope->findData(QString::fromStdString(llmScopeName(s.llm.scope)))));
            break;
        default:
            break;
    }
    m_scope->setEnabled(!s.llm.format.empty());
    updateNote(s);
    m_updating = false;
}

void LlmFormatPanel::updateNote(const WorkbenchSettings& s) {
    if (s.llm.format.empty())
        m_note->setText(
            tr("\u03b1, \u03c1 and k-bit apply to the block matrices; embeddings, "
               "output and norms stay."));
    else
        m_note->setText(tr("%1 replaces \u03b1, \u03c1 and k-bit; norms stay float.")
                            .arg(QString::fromStdString(s.llm.format)));
}

}  // namespace cwb::ui
