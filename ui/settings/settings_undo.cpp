// Undoable settings changes (see settings_undo.h).
#include "ui/settings/settings_undo.h"

#include <QDateTime>

namespace cwb::ui {

namespace {
// Two changes of the same control further apart than this are separate undo steps.
constexpr qint64 kMergeWindowMs = 1500;
}  // namespace

SetSettingsCommand::SetSettingsCommand(const CompressionSettings& before,
                                       const CompressionSettings& after, const QString& control,
                                       Apply apply)
    : m_before(before),
      m_after(after),
      m_control(control),
      m_apply(std::move(apply)),
      m_lastChangeMs(QDateTime::currentMSecsSinceEpoch()) {
    setText(QObject::tr("change %1").arg(control));
}

void SetSettingsCommand::undo() { m_apply(m_before); }
void SetSettingsCommand::redo() { m_apply(m_after); }

bool SetSettingsCommand::mergeWith(const QUndoCommand* other) {
    const auto* next = static_cast<const SetSettingsCommand*>(other);
    if (next->m_control != m_control || next->m_lastChangeMs - m_lastChangeMs > kMergeWindowMs)
        return false;
    m_after = next->m_after;
    m_lastChangeMs = next->m_lastChangeMs;
    return true;
}

}  // namespace cwb::ui
