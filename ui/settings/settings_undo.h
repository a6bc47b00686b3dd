// Undo/redo of settings changes. A drag of one slider becomes one undo step: consecutive
// changes of the same control merge (QUndoCommand::mergeWith), a change of another does not.
#pragma once

#include <QUndoCommand>
#include <functional>

#include "ui/settings/compression_settings.h"

namespace cwb::ui {

class SetSettingsCommand : public QUndoCommand {
public:
    using Apply = std::function<void(const CompressionSettings&)>;
    // `control` names what changed ("alpha", "rho", ...); `apply` pushes settings to the UI.
    SetSettingsCommand(const CompressionSettings& before, const CompressionSettings& after,
                       const QString& control, Apply apply);

    void undo() override;
    void redo() override;
    int id() const override { return 1; }
    bool mergeWith(const QUndoCommand* other) override;

private:
    CompressionSettings m_before, m_after;
    QString m_control;
    Apply m_apply;
    qint64 m_lastChangeMs;
};

}  // namespace cwb::ui
