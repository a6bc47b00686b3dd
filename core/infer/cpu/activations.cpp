// Activation kernels (see activations.h).
#include "core/infer/cpu/activations.h"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <vector>

namespace cwb::cpu {
namespace {

// SELU constants from Klambauer et al. 2017, as Keras spells them.
constexpr double kSeluAlpha = 1.6732632423543772848170429916717;
constexpr double kSeluScale = 1.0507009873554804934193349852946;

template <typename F>
void forEach(float* data, long long count, F f) {
    for (long long i = 0; i < count; ++i) data[i] = f(data[i]);
}

float sigmoid(float x) { return 1.f / (1.f + std::exp(-x)); }

void softmaxRows(float* data, long long count, int rowLength) {
    const int n = std::max(rowLength, 1);
    for (long long r = 0; r + n <= count; r += n) {
        float* row = data + r;
        float maxValue = row[0];
        for (int i = 1; i < n; ++i) maxValue = std::max(maxValue, row[i]);
        float sum = 0.f;
        for (int i = 0; i < n; ++i) {
            row[i] = std::exp(row[i] - maxValue);
            sum += row[i];
        }
        const float inv = 1.f / sum;
        for (int i = 0; i < n; ++i) row[i] *= inv;
    }
}

}  // namespace

void applyActivation(const ActivationSpec& spec, float* data, long long count) {
    const float a = spec.alpha;
    switch (spec.kind) {
        case ActivationKind::Linear:
            return;
        case ActivationKind::Relu:
            forEach(data, count, [](float x) { return x > 0.f ? x : 0.f; });
            return;
        case ActivationKind::Relu6:
            forEach(data, count, [](float x) { return std::min(std::max(x, 0.f), 6.f); });
            return;
        case ActivationKind::LeakyRelu:
            forEach(data, count, [a](float x) { return x > 0.f ? x : a * x; });
            return;
        case ActivationKind::Softmax:
            softmaxRows(data, count, spec.rowLength);
            return;
        case ActivationKind::Sigmoid:
            forEach(data, count, sigmoid);
            return;
        case ActivationKind::Tanh:
            forEach(data, count, [](float x) { return std::tanh(x); });
            return;
        case ActivationKind::Elu:
            forEach(data, count, [a](float x) { return x > 0.f ? x : a * std::expm1(x); });
            return;
        case ActivationKind::Selu:
            forEach(data, count, [](float x) {
                return static_cast<float>(kSeluScale) *
                       (x > 0.f ? x : static_cast<float>(kSeluAlpha) * std::expm1(x));
            });
            return;
        case ActivationKind::Softplus:
            // log(1 + e^x) without overflow: max(x, 0) + log1p(e^-|x|).
            forEach(data, count,
                    [](float x) { return std::max(x, 0.f) + std::log1p(std::exp(-std::fabs(x))); });
            return;
        case ActivationKind::Softsign:
            forEach(data, count, [](float x) { return x / (std::fabs(x) + 1.f); });
            return;
        case ActivationKind::Swish:
            forEach(data, count, [](float x) { return x * sigmoid(x); });
            return;
        case ActivationKind::Gelu:  // Keras default: the exact erf form, not the tanh approximation
            forEach(data, count, [](float x) {
                return 0.5f * x * (1.f + std::erf(x * (std::numbers::sqrt2_v<float> / 2.f)));
            });
            return;
        case ActivationKind::HardSigmoid:
            forEach(data, count,
                    [a](float x) { return std::min(std::max(a * x + 0.5f, 0.f), 1.f); });
            return;
        case ActivationKind::Exponential:
            forEach(data, count, [](float x) { return std::exp(x); });
            return;
    }
}

void biasActivation(const ActivationSpec& spec, const float* bias, float* data, long long rows,
                    int cols) {
    // Bias and ReLU, by far the most common pair, in one pass; the rest in two.
    if (bias && spec.kind == ActivationKind::Relu) {
        for (long long r = 0; r < rows; ++r) {
            float* row = data + r * cols;
            for (int c = 0; c < cols; ++c) row[c] = std::max(row[c] + bias[c], 0.f);
        }
        return;
    }
    if (bias) {
        for (long long r = 0; r < rows; ++r) {
            float* row = data + r * cols;
            for (int c = 0; c < cols; ++c) row[c] += bias[c];
        }
    }
    applyActivation(spec, data, rows * cols);
}

double activationReference(ActivationKind kind, double alpha, double x) {
    switch (kind) {
        case ActivationKind::Linear:
            return x;
        case ActivationKind::Relu:
            return x > 0 ? x : 0;
        case ActivationKind::Relu6:
            return x < 0 ? 0 : (x > 6 ? 6 : x);
        case ActivationKind::LeakyRelu:
            return x > 0 ? x : alpha * x;
        case ActivationKind::Softmax:
            return x;  // needs the whole row: see the array overload
        case ActivationKind::Sigmoid:
            return 1 / (1 + std::exp(-x));
        case ActivationKind::Tanh:
            return std::tanh(x);
        case ActivationKind::Elu:
            return x > 0 ? x : alpha * (std::exp(x) - 1);
        case ActivationKind::Selu:
            return kSeluScale * (x > 0 ? x : kSeluAlpha * (std::exp(x) - 1));
        case ActivationKind::Softplus:
            return x > 30 ? x : std::log(1 + std::exp(x));
        case ActivationKind::Softsign:
            return x / (std::fabs(x) + 1);
        case ActivationKind::Swish:
            return x / (1 + std::exp(-x));
        case ActivationKind::Gelu:
            return 0.5 * x * (1 + std::erf(x / std::sqrt(2.0)));
        case ActivationKind::HardSigmoid: {
            const double y = alpha * x + 0.5;
            return y < 0 ? 0 : (y > 1 ? 1 : y);
        }
        case ActivationKind::Exponential:
            return std::exp(x);
    }
    return x;
}

void activationReference(const ActivationSpec& spec, const float* in, long long count, float* out) {
    if (spec.kind != ActivationKind::Softmax) {
        for (long long i = 0; i < count; ++i)
            out[i] = static_cast<float>(activationReference(spec.kind, spec.alpha, in[i]));
        return;
    }
    const long long n = std::max(spec.rowLength, 1);
    std::vector<double> e(static_cast<std::size_t>(n));
    for (long long r = 0; r + n <= count; r += n) {
        double maxValue = in[r];
        for (long long i = 0; i < n; ++i)
            maxValue = std::max(maxValue, static_cast<double>(in[r + i]));
        double sum = 0;
        for (long long i = 0; i < n; ++i) sum += e[i] = std::exp(in[r + i] - maxValue);
        for (long long i = 0; i < n; ++i) out[r + i] = static_cast<float>(e[i] / sum);
    }
}

}  // namespace cwb::cpu
