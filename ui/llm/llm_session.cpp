// The compression the window's settings ask of a language model (see llm_session.h).
#include "ui/llm/llm_session.h"

#include <QCoreApplication>

namespace cwb::ui {

LlmCompression llmCompressionFor(const WorkbenchSettings& settings) {
    LlmCompression c;
    DType format{};
    if (!settings.llm.format.empty() && parseDType(settings.llm.format, format)) {
        c.format = format;
        c.scope = settings.llm.scope;
        return c;
    }
    c.settings = settings.plan.defaults;
    return c;
}

QString describeLlmCompression(const WorkbenchSettings& settings) {
    const auto tr = [](const char* text) {
        return QCoreApplication::translate("cwb::ui::LlmSession", text);
    };
    if (!settings.llm.format.empty())
        return QString::fromStdString(settings.llm.format) + QLatin1Char(' ') +
               (settings.llm.scope == LlmScope::All ? tr("on every 2-D tensor")
                                                    : tr("on the block matrices"));
    const LayerSettings& d = settings.plan.defaults;
    QStringList parts;
    if (d.quant.bits > 0)
        parts << tr("%1-bit").arg(d.quant.bits);
    else if (d.quant.alpha > 0.f)
        parts << QStringLiteral("\u03b1 %1").arg(double(d.quant.alpha), 0, 'g', 3);
    if (d.prune.enabled()) parts << QStringLiteral("\u03c1 %1").arg(double(d.prune.rho), 0, 'g', 3);
    return parts.isEmpty() ? tr("as stored") : parts.join(QStringLiteral(", "));
}

}  // namespace cwb::ui
