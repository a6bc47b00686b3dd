// Pooling kernels (see pooling.h).
#include "core/infer/cpu/pooling.h"

// GCC 12 warns inside its own AVX-512 headers when they are inlined (GCC bug 105593).
#if !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <immintrin.h>

#include <algorithm>
#include <limits>

namespace cwb::cpu {
namespace {

template <bool Max>
void poolReference(const float* input, int batch, int inH, int inW, int channels,
                   const PoolConfig& p, float* output) {
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
                            const int y = oy * p.strideH + ky - padTop,
                                      x = ox * p.strideW + kx - padLeft;
                            if (y < 0 || y >= inH || x < 0 || x >= inW)
                                continue;  // padding takes no part
                            const double v =
                                input[((static_cast<long long>(n) * inH + y) * inW + x) * channels +
                                      c];
                            best = std::max(best, v);
                            sum += v;
                            ++count;
                        }
                    output[((static_cast<long long>(n) * outH + oy) * outW + ox) * channels + c] =
                        static_cast<float>(Max ? best : sum / count);
                }
}

#define CWB_AVX512 __attribute__((target("avx512f")))

bool haveAvx512() {
    static const bool available = __builtin_cpu_supports("avx512f");
    return available;
}

// One output pixel: the window's taps are at window + ky * rowStride + kx * c (ky < rows,
// kx < cols), the first one inside the image. The running max (or sum) of 16 channels stays
// in a register and is written once. _mm512_max_ps returns its second operand when either is
// NaN, as the portable loop's `acc > v ? acc : v` does.
template <bool Max>
CWB_AVX512 void poolPixelAvx512(const float* window, long long rowStride, int c, int rows, int cols,
                                float scale, float* out) {
    for (int c0 = 0; c0 < c; c0 += 16) {
        const __mmask16 m =
            c - c0 >= 16 ? __mmask16(0xFFFF) : static_cast<__mmask16>((1u << (c - c0)) - 1);
        __m512 acc = _mm512_maskz_loadu_ps(m, window + c0);
        for (int ky = 0; ky < rows; ++ky)
            for (int kx = ky == 0 ? 1 : 0; kx < cols; ++kx) {
                const __m512 v = _mm512_maskz_loadu_ps(
                    m, window + ky * rowStride + static_cast<long long>(kx) * c + c0);
                acc = Max ? _mm512_max_ps(acc, v) : _mm512_add_ps(acc, v);
            }
        if (!Max) acc = _mm512_mul_ps(acc, _mm512_set1_ps(scale));
        _mm512_mask_storeu_ps(out + c0, m, acc);
    }
}

// A run of `count` output pixels whose 2x2 windows lie wholly inside the image (the common
// MaxPooling2D): straight-line code, so that the pixels' independent chains overlap. Taps are
// combined in the same order as poolPixelAvx512 (row by row), so results are identical.
template <bool Max>
CWB_AVX512 void pool2x2RunAvx512(const float* window, long long rowStride, long long pixelStep,
                                 int c, int count, float* out) {
    for (int i = 0; i < count; ++i, window += pixelStep, out += c)
        for (int c0 = 0; c0 < c; c0 += 16) {
            const __mmask16 m =
                c - c0 >= 16 ? __mmask16(0xFFFF) : static_cast<__mmask16>((1u << (c - c0)) - 1);
            const float* p = window + c0;
            const __m512 a = _mm512_maskz_loadu_ps(m, p), b = _mm512_maskz_loadu_ps(m, p + c);
            const __m512 d = _mm512_maskz_loadu_ps(m, p + rowStride),
                         e = _mm512_maskz_loadu_ps(m, p + rowStride + c);
            __m512 acc;
            if constexpr (Max) {
                acc = _mm512_max_ps(_mm512_max_ps(_mm512_max_ps(a, b), d), e);
            } else {
                acc = _mm512_mul_ps(_mm512_add_ps(_mm512_add_ps(_mm512_add_ps(a, b), d), e),
                                    _mm512_set1_ps(0.25f));
            }
            _mm512_mask_storeu_ps(out + c0, m, acc);
        }
}

template <bool Max>
void poolPixelPortable(const float* window, long long rowStride, int c, int rows, int cols,
                       float scale, float* out) {
    for (int i = 0; i < c; ++i) {
        float acc = window[i];
        for (int ky = 0; ky < rows; ++ky)
            for (int kx = ky == 0 ? 1 : 0; kx < cols; ++kx) {
                const float v = window[ky * rowStride + static_cast<long long>(kx) * c + i];
                if constexpr (Max)
                    acc = acc > v ? acc : v;
                else
                    acc += v;
            }
        out[i] = Max ? acc : acc * scale;
    }
}

template <bool Max>
void pool(const Window2D& w, const float* input, int batch, float* output) {
    const int c = w.channels;
    const long long rowStride = static_cast<long long>(w.inW) * c;
    const bool avx512 = haveAvx512();
    const bool twoByTwo = w.kernelH == 2 && w.kernelW == 2;
    for (int n = 0; n < batch; ++n) {
        const float* image = input + n * w.inputSize();
        for (int oy = 0; oy < w.outH; ++oy) {
            const int y0 = oy * w.strideH - w.padTop;
            const int ky0 = std::max(0, -y0), ky1 = std::min(w.kernelH, w.inH - y0);
            int ox = 0;
            if (avx512 && twoByTwo && ky0 == 0 &&
                ky1 == 2) {  // the pixels whose windows lie inside
                const int first = (w.padLeft + w.strideW - 1) / w.strideW;
                const int last = std::min(w.outW, (w.inW - 2 + w.padLeft) / w.strideW + 1);
                if (first == 0 && last > 0) {
                    pool2x2RunAvx512<Max>(image + static_cast<long long>(y0) * rowStride -
                                              static_cast<long long>(w.padLeft) * c,
                                          rowStride, static_cast<long long>(w.strideW) * c, c, last,
                                          output);
                    ox = last;
                    output += static_cast<long long>(last) * c;
                }
            }
            for (; ox < w.outW; ++ox, output += c) {
                const int x0 = ox * w.strideW - w.padLeft;
                const int kx0 = std::max(0, -x0), kx1 = std::min(w.kernelW, w.inW - x0);
                // Only taps inside the image take part, so padding never enters the result
                // and the average divides by the taps actually there.
                const float* window =
                    image + (static_cast<long long>(y0 + ky0) * w.inW + x0 + kx0) * c;
                const int rows = ky1 - ky0, cols = kx1 - kx0;
                const float scale = 1.f / static_cast<float>(rows * cols);
                if (avx512)
                    poolPixelAvx512<Max>(window, rowStride, c, rows, cols, scale, output);
                else
                    poolPixelPortable<Max>(window, rowStride, c, rows, cols, scale, output);
            }
        }
    }
}

}  // namespace

void maxPool2dReference(const float* input, int batch, int inH, int inW, int channels,
                        const PoolConfig& config, float* output) {
    poolReference<true>(input, batch, inH, inW, channels, config, output);
}

void avgPool2dReference(const float* input, int batch, int inH, int inW, int channels,
                        const PoolConfig& config, float* output) {
    poolReference<false>(input, batch, inH, inW, channels, config, output);
}

void maxPool2d(const Window2D& window, const float* input, int batch, float* output) {
    pool<true>(window, input, batch, output);
}

void avgPool2d(const Window2D& window, const float* input, int batch, float* output) {
    pool<false>(window, input, batch, output);
}

}  // namespace cwb::cpu

#if !defined(__clang__)
#pragma GCC diagnostic pop
#endif
