// Undoable settings changes (see settings_undo.h).
#include "ui/settings/settings_undo.h"

#include <QDateTime>

namespace cwb::ui {

namespace {
// Two edits of the same field further apart than this are separate undo steps.
constexpr qint64 kMergeWindowMs = 1500;
}  // namespace

SetSettingsCommand::SetSettingsCommand(const WorkbenchSettings& before,
                                       const WorkbenchSettings& after,
                                       std::optional<SettingsField> field, const QString& text,
                                       const QObject* source, Apply apply)
    : m_before(before),
      m_after(after),
      m_field(field),
      m_source(source),
      m_apply(std::move(apply)),
      m_lastChangeMs(QDateTime::currentMSecsSinceEpoch()) {
    setText(QObject::tr("change %1").arg(text));
}

void SetSettingsCommand::undo() { m_apply(m_before, nullptr); }

void SetSettingsCommand::redo() {
    m_apply(m_after, m_source);
    m_source = nullptr;
}

int SetSettingsCommand::id() const {
    return m_field && fieldMerges(*m_field) ? 1 + static_cast<int>(*m_field) : -1;
}

bool SetSettingsCommand::mergeWith(const QUndoCommand* other) {
    // QUndoStack merges only commands of equal id(), so `other` edits the same field.
    const auto* next = static_cast<const SetSettingsCommand*>(other);
    if (next->m_lastChangeMs - m_lastChangeMs > kMergeWindowMs) return false;
    m_after = next->m_after;
    m_lastChangeMs = next->m_lastChangeMs;
    setObsolete(m_after == m_before);  // dragged back to where it started: no step at all
    return true;
}

}  // namespace cwb::ui
