// AVX-512 direct convolution (see conv2d_direct.h). Compiled with a target attribute and
// selected by a CPU check at run time, so a generic build still runs everywhere.
#include "core/infer/cpu/conv2d_direct.h"

#include <immintrin.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <utility>

#include "core/infer/cpu/activations.h"

#define CWB_AVX512 __attribute__((target("avx512f,fma")))

namespace cwb::cpu {
namespace {

// Where one tile reads and writes. Input pixel r of the tile starts at in + r * pixelStride;
// for each kernel row the taps are `run` = kw * cin contiguous floats, and kernel rows are
// rowStride apart. Weight row j of kernel row ky is w + (ky * run + j) * filters.
struct TileArgs {
    const float* in;
    long long pixelStride, rowStride;
    int kernelH, run;
    const float* w;  // at the tile's first filter
    long long filters;
    const float* bias;  // at the tile's first filter, or null
    __mmask16 lastMask;  // lanes of the last vector that hold real filters
    bool relu;
    float* out;  // at the tile's first pixel and filter; pixels are `filters` apart
};

// R pixels x V vectors of 16 filters: R * V accumulators, V weight loads and R broadcasts
// per tap, so the FMA ports (not the loads) bound it for R * V >= 8.
template <int R, int V>
CWB_AVX512 void convTile(const TileArgs& t) {
    __m512 acc[R][V];
    for (int v = 0; v < V; ++v) {
        const __mmask16 m = v == V - 1 ? t.lastMask : __mmask16(0xFFFF);
        const __m512 b = t.bias ? _mm512_maskz_loadu_ps(m, t.bias + 16 * v) : _mm512_setzero_ps();
        for (int r = 0; r < R; ++r) acc[r][v] = b;
    }
    for (int ky = 0; ky < t.kernelH; ++ky) {
        const float* a = t.in + ky * t.rowStride;
        const float* w = t.w + static_cast<long long>(ky) * t.run * t.filters;
        for (int j = 0; j < t.run; ++j, w += t.filters) {
            __m512 b[V];
            for (int v = 0; v < V - 1; ++v) b[v] = _mm512_loadu_ps(w + 16 * v);
            b[V - 1] = _mm512_maskz_loadu_ps(t.lastMask, w + 16 * (V - 1));
            for (int r = 0; r < R; ++r) {
                const __m512 x = _mm512_set1_ps(a[r * t.pixelStride + j]);
                for (int v = 0; v < V; ++v) acc[r][v] = _mm512_fmadd_ps(x, b[v], acc[r][v]);
            }
        }
    }
    for (int r = 0; r < R; ++r)
        for (int v = 0; v < V; ++v) {
            __m512 y = acc[r][v];
            if (t.relu) y = _mm512_maskz_max_ps(0xFFFF, y, _mm512_setzero_ps());
            const __mmask16 m = v == V - 1 ? t.lastMask : __mmask16(0xFFFF);
            _mm512_mask_storeu_ps(t.out + r * t.filters + 16 * v, m, y);
        }
}

// The widest tile per vector count that keeps accumulators, weights and a broadcast in the
// 32 vector registers.
constexpr int kMaxVectors = 4;
constexpr std::array<int, kMaxVectors + 1> kMaxPixels{0, 24, 14, 9, 6};

using TileFn = void (*)(const TileArgs&);

template <int V, int... Rs>
constexpr std::array<TileFn, sizeof...(Rs) + 1> tileRow(std::integer_sequence<int, Rs...>) {
    return {nullptr, &convTile<Rs + 1, V>...};
}

struct TileTable {
    std::array<TileFn, 25> v1 = tileRow<1>(std::make_integer_sequence<int, 24>{});
    std::array<TileFn, 15> v2 = tileRow<2>(std::make_integer_sequence<int, 14>{});
    std::array<TileFn, 10> v3 = tileRow<3>(std::make_integer_sequence<int, 9>{});
    std::array<TileFn, 7> v4 = tileRow<4>(std::make_integer_sequence<int, 6>{});

    TileFn get(int vectors, int pixels) const {
        switch (vectors) {
            case 1: return v1[pixels];
            case 2: return v2[pixels];
            case 3: return v3[pixels];
            default: return v4[pixels];
        }
    }
};

const TileTable kTiles;

// Filters per block: all of them up to 64, else blocks of 64 (a last, narrower one for the rest).
int blockVectors(int filters) { return std::min((filters + 15) / 16, kMaxVectors); }

// Copies one image into a zero-bordered buffer so that tiles never test bounds.
void padImage(const Window2D& w, const float* image, int paddedH, int paddedW, float* padded) {
    const std::size_t pixelBytes = sizeof(float) * static_cast<std::size_t>(w.channels);
    std::memset(padded, 0, pixelBytes * static_cast<std::size_t>(paddedH) * paddedW);
    for (int y = 0; y < w.inH; ++y)
        std::memcpy(padded + (static_cast<long long>(y + w.padTop) * paddedW + w.padLeft) * w.channels,
                    image + static_cast<long long>(y) * w.inW * w.channels, pixelBytes * w.inW);
}

void paddedSize(const Window2D& w, int& paddedH, int& paddedW) {
    paddedH = std::max(w.inH + w.padTop, (w.outH - 1) * w.strideH + w.kernelH);
    paddedW = std::max(w.inW + w.padLeft, (w.outW - 1) * w.strideW + w.kernelW);
}

bool needsPadding(const Window2D& w) {
    int paddedH, paddedW;
    paddedSize(w, paddedH, paddedW);
    return w.padTop > 0 || w.padLeft > 0 || paddedH > w.inH || paddedW > w.inW;
}

}  // namespace

bool directConvAvailable() {
    static const bool available = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("fma");
    return available;
}

std::size_t conv2dDirectScratchFloats(const Window2D& window) {
    if (!needsPadding(window)) return 0;
    int paddedH, paddedW;
    paddedSize(window, paddedH, paddedW);
    return static_cast<std::size_t>(paddedH) * paddedW * window.channels;
}

void conv2dDirect(const Window2D& window, int filters, const float* weights, const float* bias,
                  const ActivationSpec& activation, const float* input, int batch, float* output, float* scratch) {
    const bool pad = needsPadding(window);
    int paddedH = window.inH, paddedW = window.inW;
    if (pad) paddedSize(window, paddedH, paddedW);
    const int c = window.channels;
    const bool relu = activation.kind == ActivationKind::Relu;
    const long long outImage = window.outputPixels() * filters;

    TileArgs t{};
    t.pixelStride = static_cast<long long>(window.strideW) * c;
    t.rowStride = static_cast<long long>(paddedW) * c;
    t.kernelH = window.kernelH;
    t.run = window.kernelW * c;
    t.filters = filters;
    t.relu = relu;

    const int vectorsPerBlock = blockVectors(filters);
    for (int n = 0; n < batch; ++n) {
        const float* image = input + n * window.inputSize();
        if (pad) {
            padImage(window, image, paddedH, paddedW, scratch);
            image = scratch;
        }
        float* out = output + n * outImage;
        for (int f0 = 0; f0 < filters; f0 += 16 * vectorsPerBlock) {
            const int vectors = std::min(vectorsPerBlock, (filters - f0 + 15) / 16);
            const int tail = (filters - f0) - 16 * (vectors - 1);  // filters in the last vector
            t.lastMask = static_cast<__mmask16>(tail >= 16 ? 0xFFFF : (1u << tail) - 1);
            t.w = weights + f0;
            t.bias = bias ? bias + f0 : nullptr;
            // Split each output row into equal tiles no wider than the register budget allows.
            const int maxPixels = kMaxPixels[vectors];
            const int tiles = (window.outW + maxPixels - 1) / maxPixels;
            for (int oy = 0; oy < window.outH; ++oy) {
                const float* row = image + static_cast<long long>(oy) * window.strideH * t.rowStride;
                for (int i = 0, ox = 0; i < tiles; ++i) {
                    const int pixels = (window.outW - ox) / (tiles - i);
                    t.in = row + ox * t.pixelStride;
                    t.out = out + (static_cast<long long>(oy) * window.outW + ox) * filters + f0;
                    kTiles.get(vectors, pixels)(t);
                    ox += pixels;
                }
            }
        }
        if (!relu) applyActivation(activation, out, outImage);
    }
}

}  // namespace cwb::cpu
