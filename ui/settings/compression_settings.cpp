// Persistence and naming for CompressionSettings (see compression_settings.h).
#include "ui/settings/compression_settings.h"

#include <QSettings>

namespace cwb::ui {

bool CompressionSettings::compressionDiffers(const CompressionSettings& a,
                                             const CompressionSettings& b) {
    return a.alpha != b.alpha || a.rho != b.rho || a.textbookRho != b.textbookRho ||
           a.bits != b.bits || a.granularity != b.granularity || a.scheme != b.scheme ||
           a.onlyLayer != b.onlyLayer || a.overrides != b.overrides;
}

bool CompressionSettings::evaluationDiffers(const CompressionSettings& a,
                                            const CompressionSettings& b) {
    return compressionDiffers(a, b) || a.kernels != b.kernels;
}

void CompressionSettings::save(QSettings& s) const {
    s.beginGroup("settings");
    s.setValue("alpha", alpha);
    s.setValue("rho", rho);
    s.setValue("textbookRho", textbookRho);
    s.setValue("bits", bits);
    s.setValue("granularity", granularity);
    s.setValue("scheme", scheme);
    s.setValue("kernels", kernels);
    s.setValue("temperature", temperature);
    s.setValue("lambda", lambda);
    s.setValue("student", student);
    s.endGroup();
}

CompressionSettings CompressionSettings::load(const QSettings& s) {
    CompressionSettings c;
    c.alpha = qMax(0.0, s.value("settings/alpha", c.alpha).toDouble());
    c.rho = qMax(0.0, s.value("settings/rho", c.rho).toDouble());
    c.textbookRho = s.value("settings/textbookRho", c.textbookRho).toBool();
    c.bits = s.value("settings/bits", c.bits).toInt();
    if (c.bits != 0) c.bits = qBound(2, c.bits, 8);
    c.granularity = s.value("settings/granularity", c.granularity).toString();
    c.scheme = s.value("settings/scheme", c.scheme).toString();
    c.kernels = s.value("settings/kernels", c.kernels).toString();
    c.temperature = qBound(1.0, s.value("settings/temperature", c.temperature).toDouble(), 50.0);
    c.lambda = qBound(0.0, s.value("settings/lambda", c.lambda).toDouble(), 1.0);
    c.student = s.value("settings/student", c.student).toString();
    return c;
}

QString CompressionSettings::summary() const {
    const auto num = [](double v) {
        return v == 0.0 ? QStringLiteral("off") : QString::number(v, 'g', 4);
    };
    QString text = bits > 0 ? QStringLiteral("%1 bit %2").arg(bits).arg(granularity)
                            : QStringLiteral("\u03b1=%1").arg(num(alpha));
    text += QStringLiteral("  \u03c1=%1").arg(num(rho));
    if (textbookRho) text += QStringLiteral(" (W\u2265\u03c1)");
    int kept = 0;
    for (auto o : overrides) kept += o == LayerMode::KeepFloat;
    if (kept) text += QStringLiteral("  %1 float").arg(kept);
    return text;
}

QString parameterName(Parameter p) {
    return p == Parameter::Alpha ? QStringLiteral("\u03b1 (quantization step)")
                                 : QStringLiteral("\u03c1 (pruning threshold)");
}

QString parameterSymbol(Parameter p) {
    return p == Parameter::Alpha ? QStringLiteral("\u03b1") : QStringLiteral("\u03c1");
}

double parameterValue(const CompressionSettings& s, Parameter p) {
    return p == Parameter::Alpha ? s.alpha : s.rho;
}

void setParameterValue(CompressionSettings& s, Parameter p, double value) {
    (p == Parameter::Alpha ? s.alpha : s.rho) = value;
}

}  // namespace cwb::ui
