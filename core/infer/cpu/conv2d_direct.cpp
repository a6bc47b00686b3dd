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

// One tile: R (up to 12) consecutive output pixels (possibly spanning output rows) x one block of V
// filter vectors. Pixel r's window starts at in + offset[r]; after tap k every window
// moves on by steps[k] floats. Tap k's weights are w + k * 16 * V.
struct TileArgs {
    const float* in;
    const long long* offset;
    const long long* steps;
    long long taps;
    const float* w;
    const float* bias;
    long long filters;   // output pixel stride
    __mmask16 lastMask;  // lanes of the last vector that hold real filters (for the store)
    bool relu;
    float* out;  // at the tile's first pixel and block's first filter
};

// R * V accumulators, V weight loads and R broadcasts per tap: the FMA ports bound it for
// R * V >= 8. Every TileArgs field is copied to a local first: GCC otherwise keeps the
// accumulators in memory across the loop.
template <int R, int V>
CWB_AVX512 void convTile(const TileArgs& t) {
    const long long taps = t.taps;
    const long long* steps = t.steps;
    const float* a = t.in;
    const float* w = t.w;
    long long offset[R];
#pragma GCC unroll 12
    for (int r = 0; r < R; ++r) offset[r] = t.offset[r];
    __m512 acc[R][V];
    for (int v = 0; v < V; ++v) {
        const __m512 b = _mm512_loadu_ps(t.bias + 16 * v);
#pragma GCC unroll 12
        for (int r = 0; r < R; ++r) acc[r][v] = b;
    }
    for (long long k = 0; k < taps; ++k, w += 16 * V) {
        __m512 b[V];
        for (int v = 0; v < V; ++v) b[v] = _mm512_loadu_ps(w + 16 * v);
#pragma GCC unroll 12
        for (int r = 0; r < R; ++r) {
            const __m512 x = _mm512_set1_ps(a[offset[r]]);
            for (int v = 0; v < V; ++v) acc[r][v] = _mm512_fmadd_ps(x, b[v], acc[r][v]);
        }
        a += steps[k];
    }
    const bool relu = t.relu;
    const __mmask16 lastMask = t.lastMask;
#pragma GCC unroll 12
    for (int r = 0; r < R; ++r)
        for (int v = 0; v < V; ++v) {
            __m512 y = acc[r][v];
            if (relu) y = _mm512_maskz_max_ps(0xFFFF, y, _mm512_setzero_ps());
            _mm512_mask_storeu_ps(t.out + r * t.filters + 16 * v,
                                  v == V - 1 ? lastMask : __mmask16(0xFFFF), y);
        }
}

// The widest tile per vector count that keeps accumulators, weights and a broadcast in the
// 32 vector registers.
constexpr int kMaxVectors = 4;
// (More than 12 pixels would also run out of general registers for their offsets.)
constexpr std::array<int, kMaxVectors + 1> kMaxPixels{0, 12, 12, 8, 6};
// A block of filters whose weights fit in L1 is read from there for every tile.
constexpr long long kL1WeightBytes = 40 * 1024;

using TileFn = void (*)(const TileArgs&);

template <int V, int... Rs>
constexpr std::array<TileFn, sizeof...(Rs) + 1> tileRow(std::integer_sequence<int, Rs...>) {
    return {nullptr, &convTile<Rs + 1, V>...};
}

struct TileTable {
    std::array<TileFn, 13> v1 = tileRow<1>(std::make_integer_sequence<int, 12>{});
    std::array<TileFn, 13> v2 = tileRow<2>(std::make_integer_sequence<int, 12>{});
    std::array<TileFn, 9> v3 = tileRow<3>(std::make_integer_sequence<int, 8>{});
    std::array<TileFn, 7> v4 = tileRow<4>(std::make_integer_sequence<int, 6>{});

    TileFn get(int vectors, int pixels) const {
        switch (vectors) {
            case 1:
                return v1[pixels];
            case 2:
                return v2[pixels];
            case 3:
                return v3[pixels];
            default:
                return v4[pixels];
        }
    }
};

const TileTable kTiles;

long long tapsOf(const Window2D& w) {
    return static_cast<long long>(w.kernelH) * w.kernelW * w.channels;
}

// Vectors of 16 filters per block: as many as there are, up to 4, but fewer (not below 2,
// which would make the broadcasts the bottleneck) when that keeps the block's weights in L1.
int blockVectors(const Window2D& w, int filters) {
    int vectors = std::min((filters + 15) / 16, kMaxVectors);
    while (vectors > 2 &&
           tapsOf(w) * 16 * vectors * static_cast<long long>(sizeof(float)) > kL1WeightBytes)
        --vectors;
    return vectors;
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

// Copies one image into a zero-bordered buffer so that tiles never test bounds.
void padImage(const Window2D& w, const float* image, int paddedH, int paddedW, float* padded) {
    const std::size_t pixelBytes = sizeof(float) * static_cast<std::size_t>(w.channels);
    std::memset(padded, 0, pixelBytes * static_cast<std::size_t>(paddedH) * paddedW);
    for (int y = 0; y < w.inH; ++y)
        std::memcpy(
            padded + (static_cast<long long>(y + w.padTop) * paddedW + w.padLeft) * w.channels,
            image + static_cast<long long>(y) * w.inW * w.channels, pixelBytes * w.inW);
}

}  // namespace

bool directConvAvailable() {
    static const bool available =
        __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("fma");
    return available;
}

DirectConvWeights packDirectConv(const Window2D& window, int filters, const float* weights,
                                 const float* bias) {
    DirectConvWeights p;
    p.window = window;
    p.filters = filters;
    p.vectorsPerBlock = blockVectors(window, filters);
    const long long taps = tapsOf(window);
    const int padded = (filters + 15) / 16 * 16;
    p.weights.assign(static_cast<std::size_t>(taps * padded), 0.f);
    p.bias.assign(static_cast<std::size_t>(padded), 0.f);
    if (bias) std::copy(bias, bias + filters, p.bias.begin());
    float* dst = p.weights.data();
    for (int f0 = 0; f0 < padded; f0 += 16 * p.vectorsPerBlock) {
        const int width = std::min(16 * p.vectorsPerBlock, padded - f0);
        for (long long k = 0; k < taps; ++k, dst += width)
            for (int f = f0; f < std::min(f0 + width, filters); ++f)
                dst[f - f0] = weights[k * filters + f];
    }
    int paddedH, paddedW;
    paddedSize(window, paddedH, paddedW);
    if (!needsPadding(window)) paddedW = window.inW;
    const long long run = static_cast<long long>(window.kernelW) * window.channels;
    p.steps.assign(static_cast<std::size_t>(taps), 1);
    for (long long k = run - 1; k < taps; k += run)
        p.steps[static_cast<std::size_t>(k)] =
            static_cast<long long>(paddedW) * window.channels - run + 1;
    return p;
}

std::size_t conv2dDirectScratchFloats(const Window2D& window) {
    if (!needsPadding(window)) return 0;
    int paddedH, paddedW;
    paddedSize(window, paddedH, paddedW);
    return static_cast<std::size_t>(paddedH) * paddedW * window.channels;
}

void conv2dDirect(const DirectConvWeights& packed, const ActivationSpec& activation,
                  const float* input, int batch, float* output, float* scratch) {
    const Window2D& window = packed.window;
    const int filters = packed.filters;
    const bool pad = needsPadding(window);
    int paddedH = window.inH, paddedW = window.inW;
    if (pad) paddedSize(window, paddedH, paddedW);
    const int c = window.channels;
    const bool relu = activation.kind == ActivationKind::Relu;
    const long long pixels = window.outputPixels();
    const long long outImage = pixels * filters;
    const long long taps = tapsOf(window);
    const int padded = (filters + 15) / 16 * 16;

    TileArgs t{};
    t.steps = packed.steps.data();
    t.taps = taps;
    t.filters = filters;
    t.relu = relu;
    for (int n = 0; n < batch; ++n) {
        const float* image = input + n * window.inputSize();
        if (pad) {
            padImage(window, image, paddedH, paddedW, scratch);
            image = scratch;
        }
        t.in = image;
        float* out = output + n * outImage;
        const float* blockWeights = packed.weights.data();
        for (int f0 = 0; f0 < padded; f0 += 16 * packed.vectorsPerBlock) {
            const int vectors = std::min(packed.vectorsPerBlock, (padded - f0) / 16);
            const int tail = std::min(
                16, filters - (f0 + 16 * (vectors - 1)));  // real filters in the last vector
            t.lastMask = static_cast<__mmask16>(tail >= 16 ? 0xFFFF : (1u << tail) - 1);
            t.w = blockWeights;
            t.bias = packed.bias.data() + f0;
            blockWeights += taps * 16 * vectors;
            // Equal tiles over all output pixels, none wider than the register budget allows.
            const long long maxPixels = kMaxPixels[vectors];
            const long long tiles = (pixels + maxPixels - 1) / maxPixels;
            long long p = 0;
            for (long long i = 0; i < tiles; ++i) {
                const int count = static_cast<int>((pixels - p) / (tiles - i));
                long long offsets[kMaxPixels[1]];  // where each pixel's window starts in the image
                long long oy = p / window.outW,
                          ox = p % window.outW;  // once per tile: divisions are slow
                for (int r = 0; r < count; ++r) {
                    offsets[r] = (oy * window.strideH * paddedW + ox * window.strideW) * c;
                    if (++ox == window.outW) ox = 0, ++oy;
                }
                t.offset = offsets;
                t.out = out + p * filters + f0;
                kTiles.get(vectors, count)(t);
                p += count;
            }
        }
        if (!relu) applyActivation(activation, out, outImage);
    }
}

}  // namespace cwb::cpu
