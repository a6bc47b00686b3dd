// A layer of a sequential network, in Keras terms. One tagged struct rather than a class
// hierarchy: loaders, the forward pass, training and compression all switch on `kind`, and
// a plain value type is trivially copyable for "compressed copy of a model".
//
// Weight layouts are Keras's, unchanged: Dense kernel (in, out); Conv2D kernel
// (kh, kw, in_channels, filters); activations are channels_last (H, W, C).
#pragma once

#include <string>
#include <vector>

#include "core/model/tensor.h"

namespace cwb {

enum class LayerKind {
    Input,
    Dense,
    Conv2D,
    MaxPooling2D,
    AveragePooling2D,
    BatchNormalization,
    Activation,
    Dropout,
    Flatten,
    Reshape
};

enum class ActivationKind {
    Linear,
    Relu,
    Softmax,
    Sigmoid,
    Tanh,
    Elu,
    Selu,
    Softplus,
    Softsign,
    Swish,
    Gelu,
    HardSigmoid,
    Relu6,
    Exponential,
    LeakyRelu
};

enum class Padding { Valid, Same };

struct Conv2DConfig {
    int filters = 0;
    int kernelH = 1, kernelW = 1;
    int strideH = 1, strideW = 1;
    Padding padding = Padding::Valid;
};

struct PoolConfig {
    int poolH = 2, poolW = 2;
    int strideH = 2, strideW = 2;
    Padding padding = Padding::Valid;
};

struct BatchNormConfig {
    float epsilon = 1e-3f;
    bool center = true;  // has beta
    bool scale = true;   // has gamma
};

struct Layer {
    std::string name;       // as in the file, e.g. "conv2d_1"
    std::string className;  // as in the file, e.g. "Conv2D"
    LayerKind kind = LayerKind::Input;
    ActivationKind activation =
        ActivationKind::Linear;   // fused activation (Dense, Conv2D, Activation)
    float activationAlpha = 0.f;  // LeakyReLU slope

    int units = 0;  // Dense
    bool useBias = true;
    Conv2DConfig conv;
    PoolConfig pool;
    BatchNormConfig batchNorm;
    Shape targetShape;  // Reshape, per sample
    float dropoutRate = 0.f;

    // Parameters; empty tensors where a layer has none.
    Tensor kernel, bias;                             // Dense, Conv2D
    Tensor gamma, beta, movingMean, movingVariance;  // BatchNormalization

    Shape inputShape;   // per sample, filled by Model::inferShapes
    Shape outputShape;  // per sample

    bool hasKernel() const { return kind == LayerKind::Dense || kind == LayerKind::Conv2D; }
    long long parameterCount() const;
    // Multiply-adds counted as 2 FLOPs, per sample.
    double flopsPerSample() const;
};

std::string layerKindName(LayerKind kind);
std::string activationName(ActivationKind kind);
// Keras spelling ("relu", "softmax", ...); returns false for a name we do not implement.
bool parseActivation(const std::string& name, ActivationKind& out);

// Output size along one axis of a convolution or pooling window, Keras rules.
long long windowOutputSize(long long input, int window, int stride, Padding padding);

}  // namespace cwb
