// Activation forward and backward passes (see activation_math.h).
#include "core/train/activation_math.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"

namespace cwb::train {
namespace {

constexpr float kSeluScale = 1.0507009873554805f;
constexpr float kSeluAlpha = 1.6732632423543772f;

float sigmoid(float x) { return 1.0f / (1.0f + std::exp(-x)); }

float forwardOne(ActivationKind kind, float alpha, float x) {
    switch (kind) {
        case ActivationKind::Linear:
            return x;
        case ActivationKind::Relu:
            return x > 0.f ? x : 0.f;
        case ActivationKind::Sigmoid:
            return sigmoid(x);
        case ActivationKind::Tanh:
            return std::tanh(x);
        case ActivationKind::Elu:
            return x > 0.f ? x : std::expm1(x);
        case ActivationKind::Selu:
            return x > 0.f ? kSeluScale * x : kSeluScale * kSeluAlpha * std::expm1(x);
        case ActivationKind::Softplus:
            return x > 0.f ? x + std::log1p(std::exp(-x)) : std::log1p(std::exp(x));
        case ActivationKind::Softsign:
            return x / (1.f + std::fabs(x));
        case ActivationKind::Swish:
            return x * sigmoid(x);
        case ActivationKind::Gelu:
            return 0.5f * x * (1.f + std::erf(x * 0.70710678118654752f));
        case ActivationKind::Relu6:
            return std::clamp(x, 0.f, 6.f);
        case ActivationKind::Exponential:
            return std::exp(x);
        case ActivationKind::LeakyRelu:
            return x > 0.f ? x : alpha * x;
        default:
            return x;
    }
}

// f'(z) given z (or y where derivativeFromOutput says y suffices).
float derivativeOne(ActivationKind kind, float alpha, float z, float y) {
    switch (kind) {
        case ActivationKind::Linear:
            return 1.f;
        case ActivationKind::Relu:
            return y > 0.f ? 1.f : 0.f;
        case ActivationKind::Sigmoid:
            return y * (1.f - y);
        case ActivationKind::Tanh:
            return 1.f - y * y;
        case ActivationKind::Elu:
            return y > 0.f ? 1.f : y + 1.f;
        case ActivationKind::Selu:
            return y > 0.f ? kSeluScale : y + kSeluScale * kSeluAlpha;
        case ActivationKind::Softplus:
            return sigmoid(z);
        case ActivationKind::Softsign: {
            const float d = 1.f + std::fabs(z);
            return 1.f / (d * d);
        }
        case ActivationKind::Swish: {
            const float s = sigmoid(z);
            return s + z * s * (1.f - s);
        }
        case ActivationKind::Gelu:
            return 0.5f * (1.f + std::erf(z * 0.70710678118654752f)) +
                   z * 0.39894228040143268f * std::exp(-0.5f * z * z);
        case ActivationKind::Relu6:
            return y > 0.f && y < 6.f ? 1.f : 0.f;
        case ActivationKind::Exponential:
            return y;
        case ActivationKind::LeakyRelu:
            return y > 0.f ? 1.f : alpha;
        default:
            return 1.f;
    }
}

}  // namespace

bool trainableActivation(ActivationKind kind) { return kind != ActivationKind::HardSigmoid; }

bool derivativeFromOutput(ActivationKind kind) {
    switch (kind) {
        case ActivationKind::Softplus:
        case ActivationKind::Softsign:
        case ActivationKind::Swish:
        case ActivationKind::Gelu:
            return false;
        default:
            return true;  // elu, selu: y > 0 iff z > 0 and the slope follows from y
    }
}

void activationForward(ActivationKind kind, float alpha, const float* z, float* y, long long n,
                       int width) {
    if (!trainableActivation(kind))
        throw Error("training does not support the activation '" + activationName(kind) + "'");
    if (kind == ActivationKind::Softmax) {
        for (long long row = 0; row < n; row += width) {
            const float* zr = z + row;
            float* yr = y + row;
            const float maxZ = *std::max_element(zr, zr + width);
            float sum = 0.f;
            for (int i = 0; i < width; ++i) sum += (yr[i] = std::exp(zr[i] - maxZ));
            const float inv = 1.f / sum;
            for (int i = 0; i < width; ++i) yr[i] *= inv;
        }
        return;
    }
    if (kind == ActivationKind::Relu) {  // the hot path: keep it a simple vectorisable loop
        for (long long i = 0; i < n; ++i) y[i] = z[i] > 0.f ? z[i] : 0.f;
        return;
    }
    if (kind == ActivationKind::Linear) {
        if (y != z) std::copy(z, z + n, y);
        return;
    }
    for (long long i = 0; i < n; ++i) y[i] = forwardOne(kind, alpha, z[i]);
}

void activationBackward(ActivationKind kind, float alpha, const float* z, const float* y,
                        const float* dy, float* dz, long long n, int width) {
    if (kind == ActivationKind::Softmax) {
        for (long long row = 0; row < n; row += width) {
            float dot = 0.f;
            for (int i = 0; i < width; ++i) dot += dy[row + i] * y[row + i];
            for (int i = 0; i < width; ++i) dz[row + i] = y[row + i] * (dy[row + i] - dot);
        }
        return;
    }
    if (kind == ActivationKind::Relu) {
        for (long long i = 0; i < n; ++i) dz[i] = y[i] > 0.f ? dy[i] : 0.f;
        return;
    }
    if (kind == ActivationKind::Linear) {
        if (dz != dy) std::copy(dy, dy + n, dz);
        return;
    }
    const bool fromY = derivativeFromOutput(kind);
    for (long long i = 0; i < n; ++i)
        dz[i] = dy[i] * derivativeOne(kind, alpha, fromY ? 0.f : z[i], y[i]);
}

}  // namespace cwb::train
