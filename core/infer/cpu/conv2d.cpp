// Convolution kernels (see conv2d.h).
#include "core/infer/cpu/conv2d.h"

#include <algorithm>
#include <cstring>

#include "core/infer/cpu/activations.h"
#include "core/infer/cpu/conv2d_direct.h"
#include "core/infer/cpu/gemm.h"

namespace cwb::cpu {
namespace {

// Bytes of unrolled patches per GEMM call: large enough that SGEMM runs near its peak,
// small enough to stay in a 1.25 MiB L2 next to the kernel and the output block.
constexpr std::size_t kPatchBlockBytes = 384 * 1024;
constexpr long long kMinBlockRows = 64;

long long defaultBlockRows(const Window2D& w) {
    const long long k = static_cast<long long>(w.kernelH) * w.kernelW * w.channels;
    return std::max<long long>(kMinBlockRows,
                               static_cast<long long>(kPatchBlockBytes / sizeof(float)) / k);
}

bool isPointwise(const Window2D& w) {
    return w.kernelH == 1 && w.kernelW == 1 && w.strideH == 1 && w.strideW == 1 && w.padTop == 0 &&
           w.padLeft == 0;
}

// Unrolls output rows [row0, row1) of the batch (row = image * outH * outW + pixel) into
// `patches`, one row of kh * kw * cin per output pixel, zeros where the window hangs over
// the padding. Each kernel row's taps are one contiguous run of the input row.
void im2col(const Window2D& w, const float* input, long long row0, long long row1, float* patches) {
    const int c = w.channels;
    const long long k = static_cast<long long>(w.kernelH) * w.kernelW * c;
    const long long pixels = w.outputPixels();
    const long long imageSize = w.inputSize();
    const std::size_t tapRowBytes = static_cast<std::size_t>(w.kernelW) * c * sizeof(float);
    for (long long row = row0; row < row1; ++row) {
        float* dst = patches + (row - row0) * k;
        const long long image = row / pixels, pixel = row % pixels;
        const int oy = static_cast<int>(pixel / w.outW), ox = static_cast<int>(pixel % w.outW);
        const float* src = input + image * imageSize;
        const int x0 = ox * w.strideW - w.padLeft;
        const int kx0 = std::max(0, -x0), kx1 = std::min(w.kernelW, w.inW - x0);
        for (int ky = 0; ky < w.kernelH; ++ky, dst += static_cast<long long>(w.kernelW) * c) {
            const int y = oy * w.strideH - w.padTop + ky;
            if (y < 0 || y >= w.inH || kx0 >= kx1) {
                std::memset(dst, 0, tapRowBytes);
                continue;
            }
            if (kx0 > 0) std::memset(dst, 0, static_cast<std::size_t>(kx0) * c * sizeof(float));
            std::memcpy(dst + kx0 * c, src + (static_cast<long long>(y) * w.inW + x0 + kx0) * c,
                        static_cast<std::size_t>(kx1 - kx0) * c * sizeof(float));
            if (kx1 < w.kernelW)
                std::memset(dst + kx1 * c, 0,
                            static_cast<std::size_t>(w.kernelW - kx1) * c * sizeof(float));
        }
    }
}

}  // namespace

void conv2dReference(const float* input, int batch, int inH, int inW, int inC,
                     const Conv2DConfig& config, const float* kernel, const float* bias,
                     float* output) {
    const int kh = config.kernelH, kw = config.kernelW, sh = config.strideH, sw = config.strideW;
    int outH, outW, padTop = 0, padLeft = 0;
    if (config.padding == Padding::Same) {
        outH = (inH + sh - 1) / sh;
        outW = (inW + sw - 1) / sw;
        padTop = std::max((outH - 1) * sh + kh - inH, 0) / 2;
        padLeft = std::max((outW - 1) * sw + kw - inW, 0) / 2;
    } else {
        outH = (inH - kh) / sh + 1;
        outW = (inW - kw) / sw + 1;
    }
    const int f = config.filters;
    for (int n = 0; n < batch; ++n)
        for (int oy = 0; oy < outH; ++oy)
            for (int ox = 0; ox < outW; ++ox)
                for (int o = 0; o < f; ++o) {
                    double sum = bias ? bias[o] : 0.0;
                    for (int ky = 0; ky < kh; ++ky)
                        for (int kx = 0; kx < kw; ++kx) {
                            const int y = oy * sh + ky - padTop, x = ox * sw + kx - padLeft;
                            if (y < 0 || y >= inH || x < 0 || x >= inW) continue;  // zero padding
                            for (int i = 0; i < inC; ++i)
                                sum +=
                                    static_cast<double>(
                                        input[((static_cast<long long>(n) * inH + y) * inW + x) *
                                                  inC +
                                              i]) *
                                    kernel[((static_cast<long long>(ky) * kw + kx) * inC + i) * f +
                                           o];
                        }
                    output[((static_cast<long long>(n) * outH + oy) * outW + ox) * f + o] =
                        static_cast<float>(sum);
                }
}

namespace {

ConvAlgorithm resolve(ConvAlgorithm algorithm) {
    if (algorithm == ConvAlgorithm::Auto)
        return directConvAvailable() ? ConvAlgorithm::Direct : ConvAlgorithm::Im2colGemm;
    return algorithm;
}

std::size_t im2colScratchFloats(const Window2D& window, long long blockRows) {
    if (isPointwise(window)) return 0;
    const long long k = static_cast<long long>(window.kernelH) * window.kernelW * window.channels;
    return static_cast<std::size_t>((blockRows > 0 ? blockRows : defaultBlockRows(window)) * k);
}

void conv2dIm2col(const Window2D& window, int filters, const float* weights, const float* bias,
                  const ActivationSpec& activation, const float* input, int batch, float* output,
                  float* scratch, long long blockRows) {
    const long long k = static_cast<long long>(window.kernelH) * window.kernelW * window.channels;
    const long long rows = batch * window.outputPixels();
    if (isPointwise(window)) {  // the input is already the patch matrix
        sgemm(static_cast<int>(rows), filters, static_cast<int>(k), input, static_cast<int>(k),
              weights, filters, output, filters);
        biasActivation(activation, bias, output, rows, filters);
        return;
    }
    const long long block = blockRows > 0 ? blockRows : defaultBlockRows(window);
    for (long long row0 = 0; row0 < rows; row0 += block) {
        const long long row1 = std::min(rows, row0 + block);
        im2col(window, input, row0, row1, scratch);
        float* out = output + row0 * filters;
        sgemm(static_cast<int>(row1 - row0), filters, static_cast<int>(k), scratch,
              static_cast<int>(k), weights, filters, out, filters);
        biasActivation(activation, bias, out, row1 - row0, filters);
    }
}

}  // namespace

bool convAlgorithmAvailable(ConvAlgorithm algorithm) {
    return algorithm != ConvAlgorithm::Direct || directConvAvailable();
}

std::size_t conv2dScratchFloats(const Window2D& window, const ConvSettings& settings) {
    return resolve(settings.algorithm) == ConvAlgorithm::Direct
               ? conv2dDirectScratchFloats(window)
               : im2colScratchFloats(window, settings.blockRows);
}

void conv2d(const Window2D& window, int filters, const float* weights, const float* bias,
            const ActivationSpec& activation, const float* input, int batch, float* output,
            float* scratch, const ConvSettings& settings) {
    if (resolve(settings.algorithm) == ConvAlgorithm::Direct)  // packs per call; engines pack once
        conv2dDirect(packDirectConv(window, filters, weights, bias), activation, input, batch,
                     output, scratch);
    else
        conv2dIm2col(window, filters, weights, bias, activation, input, batch, output, scratch,
                     settings.blockRows);
}

}  // namespace cwb::cpu
