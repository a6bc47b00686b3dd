// Pooling kernels (see pooling.h).
#include "core/infer/cpu/pooling.h"

#include <algorithm>
#include <limits>

namespace cwb::cpu {
namespace {

template <bool Max>
void poolReference(const float* input, int batch, int inH, int inW, int channels, const PoolConfig& p,
                   float* output) {
    int outH, outW, padTop = 0, padLeft = 0;
    if (p.padding == Padding::Same) {
        outH = (inH + p.strideH - 1) / p.strideH;
        outW = (inW + p.strideW - 1) / p.strideW;
        padTop = std::max((outH - 1) * p.strideH + p.poolH - inH, 0) / 2;
        padLeft = std::max((outW - 1) * p.strideW + p.poolW - inW, 0) / 2;
    } else {
        outH = (inH - p.poolH) / p.strideH + 1;
        outW = (inW - p.poolW) / p.strideW + 1;
    }
    for (int n = 0; n < batch; ++n)
        for (int oy = 0; oy < outH; ++oy)
            for (int ox = 0; ox < outW; ++ox)
                for (int c = 0; c < channels; ++c) {
                    double best = -std::numeric_limits<double>::infinity(), sum = 0;
                    int count = 0;
                    for (int ky = 0; ky < p.poolH; ++ky)
                        for (int kx = 0; kx < p.poolW; ++kx) {
                            const int y = oy * p.strideH + ky - padTop, x = ox * p.strideW + kx - padLeft;
                            if (y < 0 || y >= inH || x < 0 || x >= inW) continue;  // padding takes no part
                            const double v = input[((static_cast<long long>(n) * inH + y) * inW + x) * channels + c];
                            best = std::max(best, v);
                            sum += v;
                            ++count;
                        }
                    output[((static_cast<long long>(n) * outH + oy) * outW + ox) * channels + c] =
                        static_cast<float>(Max ? best : sum / count);
                }
}

// One window tap into the running result; restrict lets the compiler vectorise without
// overlap checks (input and output buffers never overlap).
template <bool Max>
inline void combine(float* __restrict out, const float* __restrict src, int c) {
    for (int i = 0; i < c; ++i) {
        if constexpr (Max) out[i] = out[i] > src[i] ? out[i] : src[i];
        else out[i] += src[i];
    }
}

template <bool Max>
void pool(const Window2D& w, const float* input, int batch, float* output) {
    const int c = w.channels;
    for (int n = 0; n < batch; ++n) {
        const float* image = input + n * w.inputSize();
        for (int oy = 0; oy < w.outH; ++oy) {
            const int y0 = oy * w.strideH - w.padTop;
            const int ky0 = std::max(0, -y0), ky1 = std::min(w.kernelH, w.inH - y0);
            for (int ox = 0; ox < w.outW; ++ox, output += c) {
                const int x0 = ox * w.strideW - w.padLeft;
                const int kx0 = std::max(0, -x0), kx1 = std::min(w.kernelW, w.inW - x0);
                // The first tap initialises, so padding never enters the result.
                const float* first = image + (static_cast<long long>(y0 + ky0) * w.inW + x0 + kx0) * c;
                std::copy(first, first + c, output);
                for (int ky = ky0; ky < ky1; ++ky)
                    for (int kx = ky == ky0 ? kx0 + 1 : kx0; kx < kx1; ++kx)
                        combine<Max>(output, image + (static_cast<long long>(y0 + ky) * w.inW + x0 + kx) * c, c);
                if constexpr (!Max) {
                    const float inv = 1.f / static_cast<float>((ky1 - ky0) * (kx1 - kx0));
                    for (int i = 0; i < c; ++i) output[i] *= inv;
                }
            }
        }
    }
}

}  // namespace

void maxPool2dReference(const float* input, int batch, int inH, int inW, int channels, const PoolConfig& config,
                        float* output) {
    poolReference<true>(input, batch, inH, inW, channels, config, output);
}

void avgPool2dReference(const float* input, int batch, int inH, int inW, int channels, const PoolConfig& config,
                        float* output) {
    poolReference<false>(input, batch, inH, inW, channels, config, output);
}

void maxPool2d(const Window2D& window, const float* input, int batch, float* output) {
    pool<true>(window, input, batch, output);
}

void avgPool2d(const Window2D& window, const float* input, int batch, float* output) {
    pool<false>(window, input, batch, output);
}

}  // namespace cwb::cpu
