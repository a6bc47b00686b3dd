// Layer names, activation spelling, parameter and FLOP counts (see layer.h).
#include "core/model/layer.h"

#include <array>

#include "core/util/enum_names.h"

namespace cwb {
namespace {

constexpr std::array<EnumName<ActivationKind>, 15> kActivationNames{
    {{ActivationKind::Linear, "linear"},
     {ActivationKind::Relu, "relu"},
     {ActivationKind::Softmax, "softmax"},
     {ActivationKind::Sigmoid, "sigmoid"},
     {ActivationKind::Tanh, "tanh"},
     {ActivationKind::Elu, "elu"},
     {ActivationKind::Selu, "selu"},
     {ActivationKind::Softplus, "softplus"},
     {ActivationKind::Softsign, "softsign"},
     {ActivationKind::Swish, "swish", "silu"},
     {ActivationKind::Gelu, "gelu"},
     {ActivationKind::HardSigmoid, "hard_sigmoid"},
     {ActivationKind::Relu6, "relu6"},
     {ActivationKind::Exponential, "exponential"},
     {ActivationKind::LeakyRelu, "leaky_relu"}}};

constexpr std::array<EnumName<LayerKind>, 10> kLayerKindNames{
    {{LayerKind::Input, "InputLayer"},
     {LayerKind::Dense, "Dense"},
     {LayerKind::Conv2D, "Conv2D"},
     {LayerKind::MaxPooling2D, "MaxPooling2D"},
     {LayerKind::AveragePooling2D, "AveragePooling2D"},
     {LayerKind::BatchNormalization, "BatchNormalization"},
     {LayerKind::Activation, "Activation"},
     {LayerKind::Dropout, "Dropout"},
     {LayerKind::Flatten, "Flatten"},
     {LayerKind::Reshape, "Reshape"}}};

}  // namespace

std::string activationName(ActivationKind kind) { return nameOf(kActivationNames, kind); }

bool parseActivation(const std::string& name, ActivationKind& out) {
    return parseName(kActivationNames, name, out);
}

std::string layerKindName(LayerKind kind) { return nameOf(kLayerKindNames, kind); }

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
