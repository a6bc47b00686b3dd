// The fields of the core's WorkbenchSettings that the window's controls edit, each with an
// id, a value as a panel reports it (QVariant) and a label. Panels report an edit as
// (field, value); the settings owner applies it with setFieldValue() and tells the other
// panels which field changed. The value types: Alpha, Rho, Temperature, Lambda: double;
// Textbook: bool; Bits: int (0 = the uniform step alpha); Granularity, Scheme, Kernels:
// the core's name (granularityName(), ...); OnlyLayer, Student: QString ("" = none /
// default); KeepFloat: QStringList of layer names; LlmFormat: a llama.cpp block format's
// name ("" = alpha, rho and k-bit); LlmScope: llmScopeName() ("blocks", "all").
#pragma once

#include <QString>
#include <QStringList>
#include <QVariant>

#include "core/compress/compression_settings.h"
#include "core/measure/sweep.h"

namespace cwb::ui {

enum class SettingsField {
    Alpha,
    Rho,
    Textbook,
    Bits,
    Granularity,
    Scheme,
    Kernels,
    OnlyLayer,
    KeepFloat,
    Temperature,
    Lambda,
    Student,
    LlmFormat,
    LlmScope,
};

inline constexpr SettingsField kSettingsFields[] = {
    SettingsField::Alpha,       SettingsField::Rho,         SettingsField::Textbook,
    SettingsField::Bits,        SettingsField::Granularity, SettingsField::Scheme,
    SettingsField::Kernels,     SettingsField::OnlyLayer,   SettingsField::KeepFloat,
    SettingsField::Temperature, SettingsField::Lambda,      SettingsField::Student,
    SettingsField::LlmFormat,   SettingsField::LlmScope,
};

QVariant fieldValue(const WorkbenchSettings& settings, SettingsField field);
// Sets `field` from `value` (of the type above), clamped to what the field takes (alpha and
// rho >= 0, bits 0 or 2..8, T in [1, 50], lambda in [0, 1]); Bits 0 also clears what needs
// a bit width (clearBitWidth). False, and nothing changed, for a value the field does not
// take (a name no parser accepts, a number that is not one).
bool setFieldValue(WorkbenchSettings& settings, SettingsField field, const QVariant& value);

// For the undo history: "\u03b1", "bit width", ... (translated).
QString fieldLabel(SettingsField field);
// The key under which a remembered field is saved ("alpha", "bits", ...); empty for fields
// that name layers of one model (OnlyLayer, KeepFloat), which are not remembered.
QString fieldKey(SettingsField field);
// Whether consecutive edits of the field become one undo step (a slider drag, a wheel over
// a box). Layer choices and whole-settings changes never merge.
bool fieldMerges(SettingsField field);

// The layers the plan keeps float32 by name, sorted.
QStringList keptFloatLayers(const CompressionPlan& plan);

// The sweep parameter's label and symbol for axes and buttons.
QString parameterName(SweepParameter p);    // "\u03b1 (quantization step)"
QString parameterSymbol(SweepParameter p);  // "\u03b1"

}  // namespace cwb::ui
