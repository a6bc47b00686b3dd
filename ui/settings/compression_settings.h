// What the controls hold: the three sliders (alpha, rho, T) and their options. This is
// the UI's value type; the worker turns it into the core's compression options.
#pragma once

#include <QMap>
#include <QString>
#include <QStringList>

class QSettings;

namespace cwb::ui {

// A per-layer exception to the global settings.
enum class LayerMode { Global, KeepFloat };

struct CompressionSettings {
    double alpha = 0.0;        // quantization step; 0 = off
    double rho = 0.0;          // pruning threshold; 0 = off
    bool textbookRho = false;  // literal "W >= rho" (signed) instead of |W| >= rho
    int bits = 0;              // 2..8: k-bit codes with the step from the range; 0: use alpha
    QString granularity = QStringLiteral("tensor");  // "tensor", "channel", "group32/64/128"
    QString scheme = QStringLiteral("symmetric");    // "symmetric" or "asymmetric"
    QString onlyLayer;                               // when set, only this layer is compressed
    // Which kernels run the compressed model for accuracy and latency: "auto" (timed per
    // layer), "float", "int8" or "sparse" (the core's kernelChoiceName()).
    QString kernels = QStringLiteral("auto");
    QMap<QString, LayerMode> overrides;  // layer name -> exception

    double temperature = 4.0;  // distillation temperature T
    double lambda = 0.5;       // weight of the soft-target loss
    QString student;           // name of the student architecture; empty = core default

    bool operator==(const CompressionSettings&) const = default;

    // Does the compressed model (not only distillation) change between a and b?
    static bool compressionDiffers(const CompressionSettings& a, const CompressionSettings& b);
    // Do accuracy or latency change between a and b (the compression, or the kernels)?
    static bool evaluationDiffers(const CompressionSettings& a, const CompressionSettings& b);
    bool keepsFloat(const QString& layer) const {
        return overrides.value(layer) == LayerMode::KeepFloat;
    }

    void save(QSettings& settings) const;
    static CompressionSettings load(const QSettings& settings);
    // One line for tables and the status bar: "alpha=0.01 rho=0.02".
    QString summary() const;
};

// Which slider a sweep or the accuracy-vs-parameter plot is about.
enum class Parameter { Alpha, Rho };
QString parameterName(Parameter p);    // "\u03b1 (quantization step)"
QString parameterSymbol(Parameter p);  // "\u03b1"
double parameterValue(const CompressionSettings& s, Parameter p);
void setParameterValue(CompressionSettings& s, Parameter p, double value);

}  // namespace cwb::ui
