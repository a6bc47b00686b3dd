// Dense (fully connected) layer: y = f(x W + b) on the last axis, Keras kernel layout
// (in, out). The matrix products go to BLAS in row slices (gemm_slices.h).
#include <algorithm>
#include <vector>

#include "core/train/activation_math.h"
#include "core/train/gemm_slices.h"
#include "core/train/layer_op.h"

namespace cwb::train {
namespace {

class DenseOp final : public LayerOp {
public:
    DenseOp(Layer& layer, ActivationKind activation)
        : LayerOp(layer),
          m_activation(activation),
          m_in(static_cast<int>(layer.kernel.shape()[0])),
          m_out(static_cast<int>(layer.kernel.shape()[1])),
          m_gradKernel(static_cast<std::size_t>(layer.kernel.elements())),
          m_gradBias(layer.useBias ? static_cast<std::size_t>(m_out) : 0) {}

    void forward(const float* in, float* out, int batch, const StepContext& ctx) override {
        const int rows = static_cast<int>(batch * m_inputSize / m_in);
        const bool keepZ =
            !derivativeFromOutput(m_activation) && m_activation != ActivationKind::Linear;
        if (keepZ) m_z.resize(static_cast<std::size_t>(rows) * m_out);
        float* z = keepZ ? m_z.data() : out;
        if (m_layer->useBias) {
            const float* b = m_layer->bias.floats().data();
            for (int r = 0; r < rows; ++r)
                std::copy(b, b + m_out, z + static_cast<std::size_t>(r) * m_out);
        }
        gemmRows(false, false, rows, m_out, m_in, in, m_in, m_layer->kernel.floats().data(), m_out,
                 m_layer->useBias ? 1.f : 0.f, z, m_out, ctx.threads);
        if (m_activation != ActivationKind::Linear)
            activationForwardSlices(m_activation, m_layer->activationAlpha, z, out, rows, m_out,
                                    m_out, ctx.threads);
    }

    void backward(const float* in, const float* out, float* dOut, float* dIn, int batch,
                  const StepContext& ctx) override {
        const int rows = static_cast<int>(batch * m_inputSize / m_in);
        float* dz = dOut;  // the activation's backward runs in place
        if (m_activation != ActivationKind::Linear)
            activationBackwardSlices(m_activation, m_layer->activationAlpha,
                                     m_z.empty() ? nullptr : m_z.data(), out, dz, dz, rows, m_out,
                                     m_out, ctx.threads);
        gemmRows(true, false, m_in, m_out, rows, in, m_in, dz, m_out, 0.f, m_gradKernel.data(),
                 m_out, ctx.threads);
        if (m_layer->useBias) {
            std::fill(m_gradBias.begin(), m_gradBias.end(), 0.f);
            for (int r = 0; r < rows; ++r) {
                const float* row = dz + static_cast<std::size_t>(r) * m_out;
                for (int j = 0; j < m_out; ++j) m_gradBias[j] += row[j];
            }
        }
        if (dIn)
            gemmRows(false, true, rows, m_in, m_out, dz, m_out, m_layer->kernel.floats().data(),
                     m_out, 0.f, dIn, m_in, ctx.threads);
    }

    std::vector<Parameter> parameters() override {
        return kernelParameters(*m_layer, m_gradKernel, m_gradBias);
    }

private:
    ActivationKind m_activation;
    int m_in, m_out;
    std::vector<float> m_z;  // pre-activation, kept only when the slope needs it
    std::vector<float> m_gradKernel, m_gradBias;
};

}  // namespace

std::unique_ptr<LayerOp> makeDenseOp(Layer& layer, ActivationKind activation) {
    return std::make_unique<DenseOp>(layer, activation);
}

}  // namespace cwb::train
