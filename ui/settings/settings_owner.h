// The one owner of the window's settings: the core's WorkbenchSettings, the undo history of
// its changes, and the signals that tell everyone else. Panels render from it and report
// edits as (field, value); the owner applies an edit, records it for undo and emits
// changed() once per field that now differs, naming the panel that sent the edit so that
// nothing is pushed back into it (no feedback loops: a slider being dragged is never set).
// applied() follows once per change; the recompute controller listens to that.
//
// The route of a slider move: slider -> panel's fieldEdited -> SettingsOwner::edit ->
// applied -> RecomputeController::requestSettings -> core (compressModel, Measurer) ->
// result -> plots.
#pragma once

#include <QObject>
#include <QUndoStack>
#include <QVariant>
#include <optional>

#include "core/compress/compression_settings.h"
#include "ui/settings/settings_field.h"

namespace cwb::ui {

class SettingsOwner : public QObject {
    Q_OBJECT
public:
    explicit SettingsOwner(QObject* parent = nullptr);

    const WorkbenchSettings& settings() const { return m_settings; }
    QUndoStack* undoStack() const { return m_undo; }

    // A user's edit of one field, from `source` (null: from no panel, every panel is told).
    // One undo step, merged with the previous one when it edits the same field shortly
    // after. A value the field does not take, or one that changes nothing, is ignored.
    void edit(SettingsField field, const QVariant& value, const QObject* source = nullptr);
    // Several fields at once, as one undo step described by `what` (reset, command line).
    void editAll(const WorkbenchSettings& next, const QString& what);
    // Replaces the settings without an undo step and clears the history (remembered
    // settings at start-up, a new model's carried-over settings).
    void load(const WorkbenchSettings& next);

    // Connects a panel, which has a signal fieldEdited(SettingsField, const QVariant&) and
    // a method showSettings(const WorkbenchSettings&, SettingsField): its edits come here,
    // and every field is shown now and whenever it changes by anything but its own edit.
    template <class Panel>
    void attach(Panel* panel) {
        connect(panel, &Panel::fieldEdited, this,
                [this, panel](SettingsField field, const QVariant& value) {
                    edit(field, value, panel);
                });
        connect(this, &SettingsOwner::changed, panel,
                [this, panel](SettingsField field, const QObject* source) {
                    if (source != panel) panel->showSettings(m_settings, field);
                });
        for (SettingsField field : kSettingsFields) panel->showSettings(m_settings, field);
    }

signals:
    // `field` differs from before; `source` sent the edit (null: undo, redo, load, ...).
    void changed(SettingsField field, const QObject* source);
    // After the changed() signals of one change.
    void applied();

private:
    void apply(const WorkbenchSettings& next, const QObject* source,
               std::optional<SettingsField> edited);

    WorkbenchSettings m_settings;
    QUndoStack* m_undo;
};

}  // namespace cwb::ui
