// The one place where the window's settings become the core's CompressionPlan.
#pragma once

#include "core/compress/compression_settings.h"
#include "ui/settings/compression_settings.h"

namespace cwb::ui {

CompressionPlan toPlan(const CompressionSettings& settings);

// The choices the controls offer, in the core's spelling (granularityName()).
QStringList granularityChoices();  // "tensor", "channel", "group32", "group64", "group128"
QStringList schemeChoices();       // "symmetric", "asymmetric"

}  // namespace cwb::ui
