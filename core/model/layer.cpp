// Layer names, activation spelling, parameter and FLOP counts (see layer.h).
#include "core/model/layer.h"

#include <array>
#include <utility>

namespace cwb {
namespace {

constexpr std::array<std::pair<ActivationKind, const char*>, 15> kActivationNames{{
    {ActivationKind::Linear, "linear"},
    {ActivationKind::Relu, "relu"},
    {ActivationKind::Softmax, "softmax"},
    {ActivationKind::Sigmoid, "sigmoid"},
    {ActivationKind::Tanh, "tanh"},
    {ActivationKind::Elu, "elu"},
    {ActivationKind::Selu, "selu"},
    {ActivationKind::Softplus, "softplus"},
    {ActivationKind::Softsign, "softsign"},
    {ActivationKind::Swish, "swish"},
    {ActivationKind::Gelu, "gelu"},
    {ActivationKind::HardSigmoid, "hard_sigmoid"},
    {ActivationKind::Relu6, "relu6"},
    {ActivationKind::Exponential, "exponential"},
    {ActivationKind::LeakyRelu, "leaky_relu"},
}};

}  // namespace

std::string activationName(ActivationKind kind) {
    for (const auto& [k, name] : kActivationNames)
        if (k == kind) return name;
    return "?";
}

bool parseActivation(const std::string& name, ActivationKind& out) {
    const std::string key = name == "silu" ? "swish" : name;
    for (const auto& [k, n] : kActivationNames) {
        if (key == n) {
            out = k;
            return true;
        }
    }
    return false;
}

std::string layerKindName(LayerKind kind) {
    switch (kind) {
        case LayerKind::Input:
            return "InputLayer";
        case LayerKind::Dense:
            return "Dense";
        case LayerKind::Conv2D:
            return "Conv2D";
        case LayerKind::MaxPooling2D:
            return "MaxPooling2D";
        case LayerKind::AveragePooling2D:
            return "AveragePooling2D";
        case LayerKind::BatchNormalization:
            return "BatchNormalization";
        case LayerKind::Activation:
            return "Activation";
        case LayerKind::Dropout:
            return "Dropout";
        case LayerKind::Flatten:
            return "Flatten";
        case LayerKind::Reshape:
            return "Reshape";
    }
    return "?";
}

long long windowOutputSize(long long input, int window, int stride, Padding padding) {
    if (padding == Padding::Same) return (input + stride - 1) / stride;
    return input < window ? 0 : (input - window) / stride + 1;
}

long long Layer::parameterCount() const {
    long long n = 0;
    for (const Tensor* t : {&kernel, &bias, &gamma, &beta, &movingMean, &movingVariance})
        if (!t->empty()) n += t->elements();
    return n;
}

double Layer::flopsPerSample() const {
    const double outputs = static_cast<double>(shapeElements(outputShape));
    switch (kind) {
        case LayerKind::Dense:
            return 2.0 * static_cast<double>(kernel.elements());
        case LayerKind::Conv2D: {
            // Each output element is a dot product over kh * kw * in_channels.
            const double perOutput =
                kernel.empty() ? 0.0 : static_cast<double>(kernel.elements()) / conv.filters;
            return 2.0 * outputs * perOutput;
        }
        default:
            return 0.0;  // pooling, normalisation and activations are counted as memory work
    }
}

}  // namespace cwb
