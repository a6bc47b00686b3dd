// Remembered settings (see settings_store.h).
#include "ui/settings/settings_store.h"

#include <QSettings>

#include "ui/settings/settings_field.h"

namespace cwb::ui {

namespace {
QString keyOf(SettingsField field) { return QStringLiteral("settings/") + fieldKey(field); }
}  // namespace

void saveSettings(const WorkbenchSettings& settings, QSettings& store) {
    for (SettingsField field : kSettingsFields)
        if (!fieldKey(field).isEmpty()) store.setValue(keyOf(field), fieldValue(settings, field));
}

WorkbenchSettings loadSettings(const QSettings& store) {
    WorkbenchSettings settings;
    for (SettingsField field : kSettingsFields)
        if (!fieldKey(field).isEmpty() && store.contains(keyOf(field)))
            setFieldValue(settings, field, store.value(keyOf(field)));
    // An older save may hold a granularity beside the uniform step; the plan would refuse it.
    if (settings.plan.defaults.quant.bits == 0) clearBitWidth(settings.plan.defaults.quant);
    return settings;
}

}  // namespace cwb::ui
