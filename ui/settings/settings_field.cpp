// Fields of the window's settings (see settings_field.h).
#include "ui/settings/settings_field.h"

#include <QCoreApplication>
#include <algorithm>
#include <cmath>

#include "core/error.h"

namespace cwb::ui {

namespace {

// A finite number from `value`, or nothing.
bool numberOf(const QVariant& value, double& out) {
    bool ok = false;
    out = value.toDouble(&ok);
    return ok && std::isfinite(out);
}

// A core parser applied to `value`'s text; false when it refuses the name.
template <class Parse>
bool parsed(const QVariant& value, Parse parse) {
    try {
        parse(value.toString().toStdString());
        return true;
    } catch (const Error&) {
        return false;
    }
}

void setKeptFloat(CompressionPlan& plan, QStringList layers) {
    std::erase_if(plan.overrides, [](const LayerOverride& o) { return o.keepFloat; });
    layers.sort();
    layers.removeDuplicates();
    for (const QString& layer : layers)
        if (!layer.isEmpty()) plan.overrides.push_back({layer.toStdString(), true, std::nullopt});
}

}  // namespace

QStringList keptFloatLayers(const CompressionPlan& plan) {
    QStringList out;
    for (const LayerOverride& o : plan.overrides)
        if (o.keepFloat) out << QString::fromStdString(o.layer);
    out.sort();
    out.removeDuplicates();
    return out;
}

QVariant fieldValue(const WorkbenchSettings& s, SettingsField field) {
    const QuantSettings& q = s.plan.defaults.quant;
    const PruneSettings& p = s.plan.defaults.prune;
    switch (field) {
        case SettingsField::Alpha:
            return double(q.alpha);
        case SettingsField::Rho:
            return double(p.rho);
        case SettingsField::Textbook:
            return p.method == PruneMethod::TextbookThreshold;
        case SettingsField::Bits:
            return q.bits;
        case SettingsField::Granularity:
            return QString::fromStdString(granularityName(q.granularity, q.groupSize));
        case SettingsField::Scheme:
            return QString::fromStdString(schemeName(q.scheme));
        case SettingsField::Kernels:
            return QString::fromStdString(kernelChoiceName(s.kernels));
        case SettingsField::OnlyLayer:
            return QString::fromStdString(s.plan.onlyLayer);
        case SettingsField::KeepFloat:
            return keptFloatLayers(s.plan);
        case SettingsField::Temperature:
            return s.distill.temperature;
        case SettingsField::Lambda:
            return s.distill.lambda;
        case SettingsField::Student:
            return QString::fromStdString(s.distill.student);
        case SettingsField::LlmFormat:
            return QString::fromStdString(s.llm.format);
        case SettingsField::LlmScope:
            return QString::fromStdString(llmScopeName(s.llm.scope));
    }
    return {};
}

bool setFieldValue(WorkbenchSettings& s, SettingsField field, const QVariant& value) {
    QuantSettings& q = s.plan.defaults.quant;
    PruneSettings& p = s.plan.defaults.prune;
    double v = 0.0;
    switch (field) {
        case SettingsField::Alpha:
            if (!numberOf(value, v)) return false;
            q.alpha = static_cast<float>(std::max(0.0, v));
            return true;
        case SettingsField::Rho:
            if (!numberOf(value, v)) return false;
            p.rho = static_cast<float>(std::max(0.0, v));
            return true;
        case SettingsField::Textbook:
            if (!value.canConvert<bool>()) return false;
            p.method = value.toBool() ? PruneMethod::TextbookThreshold : PruneMethod::Threshold;
            return true;
        case SettingsField::Bits: {
            if (!numberOf(value, v)) return false;
            const int bits = static_cast<int>(v);
            if (bits == 0)
                clearBitWidth(q);
            else
                q.bits = std::clamp(bits, 2, 8);
            return true;
        }
        case SettingsField::Granularity: {
            int groupSize = q.groupSize;
            Granularity g = q.granularity;
            if (!parsed(value, [&](const std::string& t) { g = parseGranularity(t, &groupSize); }))
                return false;
            q.granularity = g;
            q.groupSize = groupSize;
            return true;
        }
        case SettingsField::Scheme:
            return parsed(value, [&](const std::string& t) { q.scheme = parseScheme(t); });
        case SettingsField::Kernels:
            return parsed(value, [&](const std::string& t) { s.kernels = parseKernelChoice(t); });
        case SettingsField::OnlyLayer:
            s.plan.onlyLayer = value.toString().toStdString();
            return true;
        case SettingsField::KeepFloat:
            setKeptFloat(s.plan, value.toStringList());
            return true;
        case SettingsField::Temperature:
            if (!numberOf(value, v)) return false;
            s.distill.temperature = std::clamp(v, 1.0, 50.0);
            return true;
        case SettingsField::Lambda:
            if (!numberOf(value, v)) return false;
            s.distill.lambda = std::clamp(v, 0.0, 1.0);
            return true;
        case SettingsField::Student:
            s.distill.student = value.toString().toStdString();
            return true;
        case SettingsField::LlmFormat: {
            const std::string name = value.toString().toStdString();
            if (!name.empty() && !isLlmFormatName(name)) return false;
            s.llm.format = name;
            return true;
        }
        case SettingsField::LlmScope:
            return parsed(value, [&](const std::string& t) { s.llm.scope = parseLlmScope(t); });
    }
    return false;
}

QString fieldLabel(SettingsField field) {
    const auto tr = [](const char* text) {
        return QCoreApplication::translate("cwb::ui::SettingsField", text);
    };
    switch (field) {
        case SettingsField::Alpha:
            return QStringLiteral("\u03b1");
        case SettingsField::Rho:
            return QStringLiteral("\u03c1");
        case SettingsField::Textbook:
            return tr("textbook formula");
        case SettingsField::Bits:
            return tr("bit width");
        case SettingsField::Granularity:
            return tr("granularity");
        case SettingsField::Scheme:
            return tr("scheme");
        case SettingsField::Kernels:
            return tr("kernels");
        case SettingsField::OnlyLayer:
            return tr("compressed layers");
        case SettingsField::KeepFloat:
            return tr("float32 layers");
        case SettingsField::Temperature:
            return QStringLiteral("T");
        case SettingsField::Lambda:
            return QStringLiteral("\u03bb");
        case SettingsField::Student:
            return tr("student");
        case SettingsField::LlmFormat:
            return tr("block format");
        case SettingsField::LlmScope:
            return tr("format scope");
    }
    return {};
}

QString fieldKey(SettingsField field) {
    switch (field) {
        case SettingsField::Alpha:
            return QStringLiteral("alpha");
        case SettingsField::Rho:
            return QStringLiteral("rho");
        case SettingsField::Textbook:
            return QStringLiteral("textbookRho");
        case SettingsField::Bits:
            return QStringLiteral("bits");
        case SettingsField::Granularity:
            return QStringLiteral("granularity");
        case SettingsField::Scheme:
            return QStringLiteral("scheme");
        case SettingsField::Kernels:
            return QStringLiteral("kernels");
        case SettingsField::OnlyLayer:
        case SettingsField::KeepFloat:
            return {};
        case SettingsField::Temperature:
            return QStringLiteral("temperature");
        case SettingsField::Lambda:
            return QStringLiteral("lambda");
        case SettingsField::Student:
            return QStringLiteral("student");
        case SettingsField::LlmFormat:
            return QStringLiteral("llmFormat");
        case SettingsField::LlmScope:
            return QStringLiteral("llmScope");
    }
    return {};
}

bool fieldMerges(SettingsField field) {
    return field != SettingsField::OnlyLayer && field != SettingsField::KeepFloat;
}

QString parameterName(SweepParameter p) {
    return p == SweepParameter::Alpha ? QStringLiteral("\u03b1 (quantization step)")
                                      : QStringLiteral("\u03c1 (pruning threshold)");
}

QString parameterSymbol(SweepParameter p) {
    return p == SweepParameter::Alpha ? QStringLiteral("\u03b1") : QStringLiteral("\u03c1");
}

}  // namespace cwb::ui
