// Remembered settings: the window's WorkbenchSettings in QSettings ("settings/alpha", ...),
// every field through its name (settings_field.h), so a stored name reads back as the same
// value and an unknown or damaged entry falls back to the default. The layers a plan names
// (only / keep float) belong to one model and are not remembered.
#pragma once

#include "core/compress/compression_settings.h"

class QSettings;

namespace cwb::ui {

void saveSettings(const WorkbenchSettings& settings, QSettings& store);
WorkbenchSettings loadSettings(const QSettings& store);

}  // namespace cwb::ui
