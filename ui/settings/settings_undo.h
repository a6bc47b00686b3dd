// Undo/redo of settings changes. A drag of one slider becomes one undo step: consecutive
// edits of the same field merge (QUndoCommand::id() is the field's id), an edit of another
// field does not, nor does an edit after a pause. Merging is by field id, never by the
// (translated) label.
#pragma once

#include <QUndoCommand>
#include <functional>
#include <optional>

#include "core/compress/compression_settings.h"
#include "ui/settings/settings_field.h"

namespace cwb::ui {

class SetSettingsCommand : public QUndoCommand {
public:
    // Applies settings; `source` is the panel that sent the edit (null: tell every panel).
    using Apply = std::function<void(const WorkbenchSettings&, const QObject* source)>;
    // `field`: the one field edited; nullopt for a change of several (reset, command line),
    // which never merges. `source` is told nothing on the first redo only: it already shows
    // the edit. Later undos and redos tell every panel.
    SetSettingsCommand(const WorkbenchSettings& before, const WorkbenchSettings& after,
                       std::optional<SettingsField> field, const QString& text,
                       const QObject* source, Apply apply);

    void undo() override;
    void redo() override;
    int id() const override;
    bool mergeWith(const QUndoCommand* other) override;

private:
    WorkbenchSettings m_before, m_after;
    std::optional<SettingsField> m_field;
    const QObject* m_source;
    Apply m_apply;
    qint64 m_lastChangeMs;
};

}  // namespace cwb::ui
