// MaxPooling2D and AveragePooling2D, channels_last, valid or same padding. Padding cells
// never win a max and are not counted in an average (TensorFlow's behaviour).
#include <algorithm>
#include <cstdint>
#include <vector>

#include "core/train/layer_op.h"

namespace cwb::train {
namespace {

class PoolOp final : public LayerOp {
public:
    explicit PoolOp(Layer& layer)
        : LayerOp(layer), m_max(layer.kind == LayerKind::MaxPooling2D), m_g(imageGeometry(layer)) {
        const auto& p = layer.pool;
        if (p.padding == Padding::Same) {
            m_padTop = std::max((m_g.oh - 1) * p.strideH + p.poolH - m_g.h, 0) / 2;
            m_padLeft = std::max((m_g.ow - 1) * p.strideW + p.poolW - m_g.w, 0) / 2;
        }
    }

    void forward(const float* in, float* out, int batch, const StepContext& ctx) override {
        const long long window = static_cast<long long>(m_layer->pool.poolH) * m_layer->pool.poolW;
        forSlices(batch, m_outputSize * window, ctx.threads, [&](long long b, long long e, int) {
            for (long long s = b; s < e; ++s)
                poolSample(in + s * m_inputSize, out + s * m_outputSize);
        });
    }

    void backward(const float* in, const float* out, float* dOut, float* dIn, int batch,
                  const StepContext& ctx) override {
        if (!dIn) return;
        forSlices(batch, m_inputSize, ctx.threads, [&](long long b, long long e, int) {
            for (long long s = b; s < e; ++s) {
                float* dx = dIn + s * m_inputSize;
                const float* dy = dOut + s * m_outputSize;
                std::fill(dx, dx + m_inputSize, 0.f);
                if (m_max) {
                    // The gradient goes to the first cell (in scan order) holding the maximum:
                    // found again from the forward's input and output rather than stored.
                    const float* x = in + s * m_inputSize;
                    const float* y = out + s * m_outputSize;
                    std::vector<float> open(static_cast<std::size_t>(m_g.c));  // 1 until routed
                    forEachWindow([&](long long o, int y0, int y1, int x0, int x1) {
                        std::fill(open.begin(), open.end(), 1.f);
                        for (int yy = y0; yy < y1; ++yy)
                            for (int xx = x0; xx < x1; ++xx) {
                                const long long at =
                                    (static_cast<long long>(yy) * m_g.w + xx) * m_g.c;
                                for (int ch = 0; ch < m_g.c;
                                     ++ch) {  // branch-free, so it vectorises
                                    const float hit = x[at + ch] == y[o + ch] ? open[ch] : 0.f;
                                    dx[at + ch] += hit * dy[o + ch];
                                    open[ch] -= hit;
                                }
                            }
                    });
                } else {
                    forEachWindow([&](long long o, int y0, int y1, int x0, int x1) {
                        const float share = 1.f / float((y1 - y0) * (x1 - x0));
                        for (int y = y0; y < y1; ++y)
                            for (int x = x0; x < x1; ++x) {
                                float* cell = dx + (static_cast<long long>(y) * m_g.w + x) * m_g.c;
                                for (int ch = 0; ch < m_g.c; ++ch) cell[ch] += dy[o + ch] * share;
                            }
                    });
                }
            }
        });
    }

private:
    // visit(output offset of channel 0, y0, y1, x0, x1) with the window clipped to the image.
    template <typename Visit>
    void forEachWindow(Visit&& visit) const {
        const auto& p = m_layer->pool;
        for (int oy = 0; oy < m_g.oh; ++oy) {
            const int y0 = std::max(oy * p.strideH - m_padTop, 0);
            const int y1 = std::min(oy * p.strideH - m_padTop + p.poolH, m_g.h);
            for (int ox = 0; ox < m_g.ow; ++ox) {
                const int x0 = std::max(ox * p.strideW - m_padLeft, 0);
                const int x1 = std::min(ox * p.strideW - m_padLeft + p.poolW, m_g.w);
                visit((static_cast<long long>(oy) * m_g.ow + ox) * m_g.c, y0, y1, x0, x1);
            }
        }
    }

    // Channels innermost, so the inner loops run over contiguous memory and vectorise.
    void poolSample(const float* x, float* y) const {
        forEachWindow([&](long long o, int y0, int y1, int x0, int x1) {
            float* out = y + o;
            const long long firstAt = (static_cast<long long>(y0) * m_g.w + x0) * m_g.c;
            std::copy(x + firstAt, x + firstAt + m_g.c, out);
            for (int yy = y0; yy < y1; ++yy)
                for (int xx = (yy == y0 ? x0 + 1 : x0); xx < x1; ++xx) {
                    const float* cell = x + (static_cast<long long>(yy) * m_g.w + xx) * m_g.c;
                    if (m_max)
                        for (int ch = 0; ch < m_g.c; ++ch) out[ch] = std::max(out[ch], cell[ch]);
                    else
                        for (int ch = 0; ch < m_g.c; ++ch) out[ch] += cell[ch];
                }
            if (!m_max) {
                const float inv = 1.f / float((y1 - y0) * (x1 - x0));
                for (int ch = 0; ch < m_g.c; ++ch) out[ch] *= inv;
            }
        });
    }

    bool m_max;
    ImageGeometry m_g;
    int m_padTop = 0, m_padLeft = 0;
};

}  // namespace

std::unique_ptr<LayerOp> makePoolOp(Layer& layer) { return std::make_unique<PoolOp>(layer); }

}  // namespace cwb::train
