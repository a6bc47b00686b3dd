// The window's settings and their undo history (see settings_owner.h).
#include "ui/settings/settings_owner.h"

#include "ui/settings/settings_undo.h"

namespace cwb::ui {

SettingsOwner::SettingsOwner(QObject* parent) : QObject(parent), m_undo(new QUndoStack(this)) {}

void SettingsOwner::edit(SettingsField field, const QVariant& value, const QObject* source) {
    WorkbenchSettings next = m_settings;
    if (!setFieldValue(next, field, value) || next == m_settings) return;
    m_undo->push(new SetSettingsCommand(
        m_settings, next, field, fieldLabel(field), source,
        [this, field](const WorkbenchSettings& s, const QObject* from) { apply(s, from, field); }));
}

void SettingsOwner::editAll(const WorkbenchSettings& next, const QString& what) {
    if (next == m_settings) return;
    m_undo->push(new SetSettingsCommand(
        m_settings, next, std::nullopt, what, nullptr,
        [this](const WorkbenchSettings& s, const QObject*) { apply(s, nullptr, std::nullopt); }));
}

void SettingsOwner::load(const WorkbenchSettings& next) {
    m_undo->clear();
    apply(next, nullptr, std::nullopt);
}

void SettingsOwner::apply(const WorkbenchSettings& next, const QObject* source,
                          std::optional<SettingsField> edited) {
    const WorkbenchSettings before = m_settings;
    m_settings = next;
    // Only the edited field is the source's own; what follows from it (bits 0 clears the
    // granularity) is news to the source too.
    for (SettingsField field : kSettingsFields)
        if (fieldValue(before, field) != fieldValue(next, field))
            emit changed(field, field == edited ? source : nullptr);
    emit applied();
}

}  // namespace cwb::ui
