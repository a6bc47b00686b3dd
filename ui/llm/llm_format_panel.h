// The language-model controls under the sliders: a llama.cpp block format as the scheme
// (instead of alpha, rho and k-bit) and what it covers (the block matrices, or every 2-D
// tensor as llama-quantize --pure). Reports edits as (field, value) to the settings owner
// like every panel (SettingsOwner::attach), so they undo by field.
#pragma once

#include <QVariant>
#include <QWidget>

#include "core/compress/compression_settings.h"
#include "ui/settings/settings_field.h"

class QComboBox;
class QLabel;

namespace cwb::ui {

class LlmFormatPanel : public QWidget {
    Q_OBJECT
public:
    explicit LlmFormatPanel(QWidget* parent = nullptr);

    void showSettings(const WorkbenchSettings& settings, SettingsField field);
    QComboBox* formatBox() const { return m_format; }
    QComboBox* scopeBox() const { return m_scope; }

signals:
    void fieldEdited(SettingsField field, const QVariant& value);

private:
    void edit(SettingsField field, const QVariant& value);
    void updateNote(const WorkbenchSettings& settings);

    QComboBox* m_format;
    QComboBox* m_scope;
    QLabel* m_note;
    bool m_updating = false;
};

}  // namespace cwb::ui
