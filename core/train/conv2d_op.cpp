// Conv2D, channels_last, Keras kernel layout (kh, kw, in, filters), valid or same padding
// (TensorFlow's rule: the odd pixel of padding goes bottom/right), any stride. Lowered to
// one matrix product per batch through im2col: rows are output pixels of every sample,
// columns (ky, kx, c) in the kernel's own order, so the kernel is used as is.
#include <algorithm>
#include <vector>

#include "core/train/activation_math.h"
#include "core/train/gemm_slices.h"
#include "core/train/layer_op.h"

namespace cwb::train {
namespace {

class Conv2DOp final : public LayerOp {
public:
    Conv2DOp(Layer& layer, ActivationKind activation)
        : LayerOp(layer), m_activation(activation), m_g(imageGeometry(layer)) {
        const auto& c = layer.conv;
        m_f = c.filters;
        m_k = c.kernelH * c.kernelW * m_g.c;
        if (c.padding == Padding::Same) {
            m_padTop = std::max((m_g.oh - 1) * c.strideH + c.kernelH - m_g.h, 0) / 2;
            m_padLeft = std::max((m_g.ow - 1) * c.strideW + c.kernelW - m_g.w, 0) / 2;
        }
        m_gradKernel.resize(static_cast<std::size_t>(layer.kernel.elements()));
        if (layer.useBias) m_gradBias.resize(static_cast<std::size_t>(m_f));
    }

    void forward(const float* in, float* out, int batch, const StepContext& ctx) override {
        const long long pixels = static_cast<long long>(m_g.oh) * m_g.ow;
        const long long rows = batch * pixels;
        m_cols.resize(static_cast<std::size_t>(rows * m_k));
        forSlices(batch, pixels * m_k, ctx.threads, [&](long long b, long long e, int) {
            for (long long s = b; s < e; ++s)
                im2col(in + s * m_inputSize, m_cols.data() + s * pixels * m_k);
        });
        const bool keepZ =
            !derivativeFromOutput(m_activation) && m_activation != ActivationKind::Linear;
        if (keepZ) m_z.resize(static_cast<std::size_t>(rows * m_f));
        float* z = keepZ ? m_z.data() : out;
        if (m_layer->useBias) {
            const float* bias = m_layer->bias.floats().data();
            for (long long r = 0; r < rows; ++r) std::copy(bias, bias + m_f, z + r * m_f);
        }
        gemmRows(false, false, static_cast<int>(rows), m_f, m_k, m_cols.data(), m_k,
                 m_layer->kernel.floats().data(), m_f, m_layer->useBias ? 1.f : 0.f, z, m_f,
                 ctx.threads);
        if (m_activation != ActivationKind::Linear)
            activationForwardSlices(m_activation, m_layer->activationAlpha, z, out, rows, m_f, m_f,
                                    ctx.threads);
    }

    void backward(const float*, const float* out, float* dOut, float* dIn, int batch,
                  const StepContext& ctx) override {
        const long long pixels = static_cast<long long>(m_g.oh) * m_g.ow;
        const long long rows = batch * pixels;
        float* dz = dOut;
        if (m_activation != ActivationKind::Linear)
            activationBackwardSlices(m_activation, m_layer->activationAlpha,
                                     m_z.empty() ? nullptr : m_z.data(), out, dz, dz, rows, m_f,
                                     m_f, ctx.threads);
        gemmRows(true, false, m_k, m_f, static_cast<int>(rows), m_cols.data(), m_k, dz, m_f, 0.f,
                 m_gradKernel.data(), m_f, ctx.threads);
        if (m_layer->useBias) {
            std::fill(m_gradBias.begin(), m_gradBias.end(), 0.f);
            for (long long r = 0; r < rows; ++r)
                for (int j = 0; j < m_f; ++j) m_gradBias[j] += dz[r * m_f + j];
        }
        if (!dIn) return;
        m_dCols.resize(static_cast<std::size_t>(rows * m_k));
        gemmRows(false, true, static_cast<int>(rows), m_k, m_f, dz, m_f,
                 m_layer->kernel.floats().data(), m_f, 0.f, m_dCols.data(), m_k, ctx.threads);
        forSlices(batch, pixels * m_k, ctx.threads, [&](long long b, long long e, int) {
            for (long long s = b; s < e; ++s)
                col2im(m_dCols.data() + s * pixels * m_k, dIn + s * m_inputSize);
        });
    }

    std::vector<Parameter> parameters() override {
        return kernelParameters(*m_layer, m_gradKernel, m_gradBias);
    }

private:
    // Calls visit(inputOffset or -1 for padding, column offset) for every kernel tap of
    // every output pixel of one sample, in the column order of the kernel.
    template <typename Visit>
    void forEachTap(Visit&& visit) const {
        const auto& c = m_layer->conv;
        long long col = 0;
        for (int oy = 0; oy < m_g.oh; ++oy) {
            for (int ox = 0; ox < m_g.ow; ++ox) {
                for (int ky = 0; ky < c.kernelH; ++ky) {
                    const int iy = oy * c.strideH - m_padTop + ky;
                    for (int kx = 0; kx < c.kernelW; ++kx, col += m_g.c) {
                        const int ix = ox * c.strideW - m_padLeft + kx;
                        const bool inside = iy >= 0 && iy < m_g.h && ix >= 0 && ix < m_g.w;
                        visit(inside ? (static_cast<long long>(iy) * m_g.w + ix) * m_g.c : -1, col);
                    }
                }
            }
        }
    }

    void im2col(const float* image, float* cols) const {
        forEachTap([&](long long at, long long col) {
            if (m_g.c == 1)
                cols[col] = at < 0 ? 0.f : image[at];  // first layers: no call per value
            else if (at < 0)
                std::fill(cols + col, cols + col + m_g.c, 0.f);
            else
                std::copy(image + at, image + at + m_g.c, cols + col);
        });
    }

    void col2im(const float* cols, float* image) const {
        std::fill(image, image + m_inputSize, 0.f);
        forEachTap([&](long long at, long long col) {
            if (at < 0) return;
            for (int ch = 0; ch < m_g.c; ++ch) image[at + ch] += cols[col + ch];
        });
    }

    ActivationKind m_activation;
    ImageGeometry m_g;
    int m_f = 0, m_k = 0;
    int m_padTop = 0, m_padLeft = 0;
    std::vector<float> m_cols, m_dCols, m_z;
    std::vector<float> m_gradKernel, m_gradBias;
};

}  // namespace

std::unique_ptr<LayerOp> makeConv2DOp(Layer& layer, ActivationKind activation) {
    return std::make_unique<Conv2DOp>(layer, activation);
}

}  // namespace cwb::train
