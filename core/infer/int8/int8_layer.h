// Dense and Conv2D layers with int8 weights and dynamically quantized uint8 activations.
// The weights are the compression's own integer codes (code = W' / step, exactly), stored as
// int8 with a per-unit offset when a unit's codes span up to 256 values off zero; steps are
// per output channel or per group of input rows. Activations are quantized per row (Dense:
// per sample) or per image (Conv2D, before im2col, so padding is the exact zero point).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/compress/compress_model.h"
#include "core/infer/epilogue.h"
#include "core/infer/int8/int8_gemm.h"
#include "core/infer/plan.h"

namespace cwb::int8 {

// Deepest group of rows the int32 arithmetic holds (255 * 383 * depth < 2^31).
inline constexpr int kMaxDepth = 21000;

struct Int8Weights {
    int k = 0, n = 0;
    int groupRows = 0;                  // rows of k per step group (k when per channel or tensor)
    std::vector<PackedB> groups;        // one per group of rows
    std::vector<float> steps;           // per (group, column)
    std::vector<std::int32_t> offsets;  // per (group, column): code = stored + offset
    bool anyOffset = false;
    int codeBits = 8;          // bits the codes span (for the report)
    bool requantized = false;  // true: not the compression's grid, re-quantized per channel
    // Convolutions whose kernel rows are not whole 4-byte groups (1 or 3 input channels):
    // the one group packed again with padded kernel rows (prepareConvolution), else empty.
    PackedB paddedKernelRows;

    int groupCount() const { return static_cast<int>(groups.size()); }
};

// The codes of weights (k x n) that lie exactly on `grid`. Returns false with a reason
// (not quantized, off the grid, a unit spanning more than 256 codes).
bool weightsFromGrid(const float* w, int k, int n, const KernelGrid& grid, Int8Weights& out,
                     std::string& why);

// Symmetric int8 per output channel (step max|W| / 127): for float layers forced to int8.
Int8Weights requantizePerChannel(const float* w, int k, int n);

// Readies weights of a Conv2D for reading the image directly (int8_gemm.h, ImplicitConv)
// where its kernel rows need padding; does nothing where that does not apply.
void prepareConvolution(Int8Weights& w, const Window2D& window);

// Per-row scratch of the int8 kernels; grows on demand and is reused between calls.
struct Int8Scratch {
    std::vector<std::uint8_t> a, image;
    std::vector<float> rowScale;
    std::vector<std::int32_t> rowZero, rowSums;
};

// Quantizes `rows` rows of `k` floats to uint8 rows of `lda` bytes (padding zeroed), with
// per-row scale and zero point: the range is widened to contain 0, step = range / 255,
// code = nearest(x * (1 / step)) + zero point (ties to even), clamped to 0..255.
void quantizeRows(const float* x, long long rows, int k, std::uint8_t* q, int lda, float* scales,
                  std::int32_t* zeros);

// Dense on `rows` rows of w.k floats -> rows x w.n floats.
void denseInt8(Isa isa, const Int8Weights& w, const Epilogue& epilogue, const float* in,
               long long rows, float* out, Int8Scratch& scratch);

// Conv2D on `batch` channels_last images of `window` -> (outH, outW, w.n) each.
void conv2dInt8(Isa isa, const Window2D& window, const Int8Weights& w, const Epilogue& epilogue,
                const float* in, int batch, float* out, Int8Scratch& scratch);

}  // namespace cwb::int8
