// BatchNormalization over the last axis. Training mode normalises with the batch's own
// mean and (biased) variance and updates the moving averages, Keras's momentum 0.99;
// inference mode uses the moving averages. Per-channel sums are taken in fixed sample
// slices and added in slice order, in double, so results depend only on the thread count.
#include <algorithm>
#include <cmath>
#include <utility>
#include <vector>

#include "core/train/layer_op.h"

namespace cwb::train {
namespace {

constexpr double kMomentum = 0.99;  // Keras's default; Layer does not record it

class BatchNormOp final : public LayerOp {
public:
    explicit BatchNormOp(Layer& layer) : LayerOp(layer) {
        m_c = static_cast<int>(layer.outputShape.empty() ? 1 : layer.outputShape.back());
        m_perSample = m_inputSize / m_c;
        if (layer.batchNorm.scale) m_gradGamma.resize(static_cast<std::size_t>(m_c));
        if (layer.batchNorm.center) m_gradBeta.resize(static_cast<std::size_t>(m_c));
        m_mean.resize(static_cast<std::size_t>(m_c));
        m_invStd.resize(static_cast<std::size_t>(m_c));
    }

    void forward(const float* in, float* out, int batch, const StepContext& ctx) override {
        const float eps = m_layer->batchNorm.epsilon;
        if (ctx.training) {
            const double count = double(batch) * m_perSample;
            // One pass for sum and sum of squares, accumulated in double: float activations
            // leave double far from cancelling in E[x^2] - E[x]^2.
            const auto [sum, sumSq] = channelSumPair(batch, ctx.threads, [&](long long at) {
                const double v = in[at];
                return std::pair<double, double>(v, v * v);
            });
            std::vector<double> variance(m_c);
            for (int c = 0; c < m_c; ++c) {
                m_mean[c] = sum[c] / count;
                variance[c] = std::max(0.0, sumSq[c] / count - m_mean[c] * m_mean[c]);
            }
            auto movingMean = m_layer->movingMean.mutableFloats();
            auto movingVar = m_layer->movingVariance.mutableFloats();
            for (int c = 0; c < m_c; ++c) {
                const double var = variance[c];
                m_invStd[c] = 1.0 / std::sqrt(var + eps);
                movingMean[c] =
                    static_cast<float>(kMomentum * movingMean[c] + (1 - kMomentum) * m_mean[c]);
                movingVar[c] = static_cast<float>(kMomentum * movingVar[c] + (1 - kMomentum) * var);
            }
        } else {
            const auto movingMean = m_layer->movingMean.floats();
            const auto movingVar = m_layer->movingVariance.floats();
            for (int c = 0; c < m_c; ++c) {
                m_mean[c] = movingMean[c];
                m_invStd[c] = 1.0 / std::sqrt(double(movingVar[c]) + eps);
            }
        }
        // y = x * scale + shift per channel.
        std::vector<float> scale(m_c), shift(m_c);
        for (int c = 0; c < m_c; ++c) {
            const double g = m_layer->batchNorm.scale ? m_layer->gamma.floats()[c] : 1.0;
            const double b = m_layer->batchNorm.center ? m_layer->beta.floats()[c] : 0.0;
            scale[c] = static_cast<float>(g * m_invStd[c]);
            shift[c] = static_cast<float>(b - m_mean[c] * g * m_invStd[c]);
        }
        forSlices(batch, m_inputSize, ctx.threads, [&](long long b, long long e, int) {
            for (long long p = b * m_perSample; p < e * m_perSample; ++p) {
                const float* x = in + p * m_c;
                float* y = out + p * m_c;
                for (int c = 0; c < m_c; ++c) y[c] = x[c] * scale[c] + shift[c];
            }
        });
    }

    void backward(const float* in, const float*, float* dOut, float* dIn, int batch,
                  const StepContext& ctx) override {
        const double count = double(batch) * m_perSample;
        // sum(dy) and sum(dy * xhat) = invStd * (sum(dy * x) - mean * sum(dy)), in one pass.
        const auto [sumDy, sumDyX] = channelSumPair(batch, ctx.threads, [&](long long at) {
            const double dy = dOut[at];
            return std::pair<double, double>(dy, dy * in[at]);
        });
        std::vector<double> sumDyXhat(m_c);
        for (int c = 0; c < m_c; ++c)
            sumDyXhat[c] = m_invStd[c] * (sumDyX[c] - m_mean[c] * sumDy[c]);
        for (int c = 0; c < m_c; ++c) {
            if (!m_gradGamma.empty()) m_gradGamma[c] = static_cast<float>(sumDyXhat[c]);
            if (!m_gradBeta.empty()) m_gradBeta[c] = static_cast<float>(sumDy[c]);
        }
        if (!dIn) return;
        // dx = gamma * invStd * (dy - mean(dy) - xhat * mean(dy * xhat))
        std::vector<float> a(m_c), meanDy(m_c), meanDyXhat(m_c), mean(m_c), invStd(m_c);
        for (int c = 0; c < m_c; ++c) {
            const double g = m_layer->batchNorm.scale ? m_layer->gamma.floats()[c] : 1.0;
            a[c] = static_cast<float>(g * m_invStd[c]);
            meanDy[c] = static_cast<float>(sumDy[c] / count);
            meanDyXhat[c] = static_cast<float>(sumDyXhat[c] / count);
            mean[c] = static_cast<float>(m_mean[c]);
            invStd[c] = static_cast<float>(m_invStd[c]);
        }
        forSlices(batch, m_inputSize, ctx.threads, [&](long long b, long long e, int) {
            for (long long p = b * m_perSample; p < e * m_perSample; ++p) {
                const float* x = in + p * m_c;
                const float* dy = dOut + p * m_c;
                float* dx = dIn + p * m_c;
                for (int c = 0; c < m_c; ++c) {
                    const float xh = (x[c] - mean[c]) * invStd[c];
                    dx[c] = a[c] * (dy[c] - meanDy[c] - xh * meanDyXhat[c]);
                }
            }
        });
    }

    std::vector<Parameter> parameters() override {
        std::vector<Parameter> params;
        if (m_layer->batchNorm.scale)
            params.push_back({m_layer->name + "/gamma", m_layer->gamma.mutableFloats().data(),
                              m_gradGamma.data(), m_c});
        if (m_layer->batchNorm.center)
            params.push_back({m_layer->name + "/beta", m_layer->beta.mutableFloats().data(),
                              m_gradBeta.data(), m_c});
        return params;
    }

private:
    // Per-channel sums of the two parts of value(offset) over every position of the batch,
    // in fixed sample slices added in slice order.
    template <typename Value>
    std::pair<std::vector<double>, std::vector<double>> channelSumPair(int batch, int threads,
                                                                       Value&& value) const {
        const int slices = std::max(1, std::min(threads, batch));
        std::vector<double> partial(static_cast<std::size_t>(slices) * 2 * m_c, 0.0);
        forSlices(batch, m_inputSize, threads, [&](long long b, long long e, int worker) {
            double* first = partial.data() + static_cast<std::size_t>(worker) * 2 * m_c;
            double* second = first + m_c;
            for (long long p = b * m_perSample; p < e * m_perSample; ++p)
                for (int c = 0; c < m_c; ++c) {
                    const auto [a, b2] = value(p * m_c + c);
                    first[c] += a;
                    second[c] += b2;
                }
        });
        std::pair<std::vector<double>, std::vector<double>> total{std::vector<double>(m_c, 0.0),
                                                                  std::vector<double>(m_c, 0.0)};
        for (int w = 0; w < slices; ++w)
            for (int c = 0; c < m_c; ++c) {
                total.first[c] += partial[(static_cast<std::size_t>(w) * 2) * m_c + c];
                total.second[c] += partial[(static_cast<std::size_t>(w) * 2 + 1) * m_c + c];
            }
        return total;
    }

    int m_c = 1;
    long long m_perSample = 1;
    std::vector<double> m_mean, m_invStd;  // of the last forward pass
    std::vector<float> m_gradGamma, m_gradBeta;
};

}  // namespace

std::unique_ptr<LayerOp> makeBatchNormOp(Layer& layer) {
    return std::make_unique<BatchNormOp>(layer);
}

}  // namespace cwb::train
