// The ops without parameters or windows: shape-only layers, the Activation layer and
// Dropout (inverted dropout: kept units are scaled by 1 / (1 - rate) while training, so
// inference is the identity).
#include <algorithm>
#include <cstdint>
#include <vector>

#include "core/error.h"
#include "core/train/activation_math.h"
#include "core/train/layer_op.h"
#include "core/util/rng.h"

namespace cwb::train {
namespace {

class IdentityOp final : public LayerOp {
public:
    explicit IdentityOp(Layer& layer) : LayerOp(layer) {}
    bool isIdentity(bool) const override { return true; }
    void forward(const float* in, float* out, int batch, const StepContext&) override {
        if (in != out) std::copy(in, in + batch * m_inputSize, out);
    }
    void backward(const float*, const float*, float* dOut, float* dIn, int batch,
                  const StepContext&) override {
        if (dIn && dIn != dOut) std::copy(dOut, dOut + batch * m_outputSize, dIn);
    }
};

class ActivationOp final : public LayerOp {
public:
    ActivationOp(Layer& layer, ActivationKind activation)
        : LayerOp(layer), m_activation(activation) {
        const Shape& shape = layer.outputShape;
        m_width = shape.empty() ? 1 : static_cast<int>(shape.back());
    }
    bool isIdentity(bool) const override { return m_activation == ActivationKind::Linear; }

    void forward(const float* in, float* out, int batch, const StepContext& ctx) override {
        if (!derivativeFromOutput(m_activation) && ctx.training)
            m_input.assign(in, in + batch * m_inputSize);
        activationForwardSlices(m_activation, m_layer->activationAlpha, in, out, batch, m_inputSize,
                                m_width, ctx.threads);
    }
    void backward(const float*, const float* out, float* dOut, float* dIn, int batch,
                  const StepContext& ctx) override {
        if (!dIn) return;
        const float* z = derivativeFromOutput(m_activation) ? nullptr : m_input.data();
        activationBackwardSlices(m_activation, m_layer->activationAlpha, z, out, dOut, dIn, batch,
                                 m_inputSize, m_width, ctx.threads);
    }

private:
    ActivationKind m_activation;
    int m_width = 1;
    std::vector<float> m_input;  // kept only for activations whose slope needs z
};

// A stable hash of the layer name, so two Dropout layers draw different masks.
std::uint64_t nameHash(const std::string& name) {
    std::uint64_t h = 1469598103934665603ull;
    for (unsigned char c : name) h = (h ^ c) * 1099511628211ull;
    return h;
}

class DropoutOp final : public LayerOp {
public:
    explicit DropoutOp(Layer& layer) : LayerOp(layer), m_stream(nameHash(layer.name)) {
        if (!(layer.dropoutRate >= 0.f && layer.dropoutRate < 1.f))
            throw Error("layer '" + layer.name + "' (Dropout): rate " +
                        std::to_string(layer.dropoutRate) + " is outside [0, 1)");
    }
    bool isIdentity(bool training) const override {
        return !training || m_layer->dropoutRate == 0.f;
    }

    void forward(const float* in, float* out, int batch, const StepContext& ctx) override {
        const float rate = m_layer->dropoutRate;
        const float scale = 1.f / (1.f - rate);
        m_mask.resize(static_cast<std::size_t>(batch * m_inputSize));
        forSlices(batch, m_inputSize, ctx.threads, [&](long long b, long long e, int) {
            for (long long s = b; s < e; ++s) {
                // One stream per (step, layer, sample): the mask does not depend on slicing.
                Rng rng(deriveSeed(ctx.stepSeed ^ m_stream, static_cast<std::uint64_t>(s)));
                float* mask = m_mask.data() + s * m_inputSize;
                for (long long i = 0; i < m_inputSize; ++i)
                    mask[i] = rng.uniform() < rate ? 0.f : scale;
                const float* x = in + s * m_inputSize;
                float* y = out + s * m_inputSize;
                for (long long i = 0; i < m_inputSize; ++i) y[i] = x[i] * mask[i];
            }
        });
    }
    void backward(const float*, const float*, float* dOut, float* dIn, int batch,
                  const StepContext&) override {
        if (!dIn) return;
        const long long n = batch * m_inputSize;
        for (long long i = 0; i < n; ++i) dIn[i] = dOut[i] * m_mask[i];
    }

private:
    std::uint64_t m_stream;
    std::vector<float> m_mask;
};

}  // namespace

std::unique_ptr<LayerOp> makeIdentityOp(Layer& layer) {
    return std::make_unique<IdentityOp>(layer);
}
std::unique_ptr<LayerOp> makeActivationOp(Layer& layer, ActivationKind activation) {
    return std::make_unique<ActivationOp>(layer, activation);
}
std::unique_ptr<LayerOp> makeDropoutOp(Layer& layer) { return std::make_unique<DropoutOp>(layer); }

}  // namespace cwb::train
