// Statistics of a compressed tensor and model, as compressModel() reports them: error
// measures, sparsity, levels, histograms and the size under a real encoding. (A layer's,
// which carry its settings, are LayerStats in core/compress/compress_model.h: stats does
// not depend on compress.)
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/stats/histogram.h"

namespace cwb {

struct StatsOptions {
    bool histograms = true;
    // Original and compressed weights share one spec (automatic: symmetric around 0 over
    // max |W| of all reported kernels, so every layer and the whole model share edges).
    HistogramSpec weights{128, 0.0, 0.0};
    // The error W' - W (automatic: symmetric over max |error| of the model, shared by all layers).
    HistogramSpec error{128, 0.0, 0.0};
    bool errorSharesWeightEdges = false;  // true: the error histogram uses the weight spec
    // Count distinct compressed values exactly (always cheap when quantized; for float32
    // weights it sorts, which the window may want to skip while a slider moves).
    bool exactLevels = true;
};

// How a compressed tensor is stored, counted in bytes. Codes are packed at `codeBits`;
// the sparse index is whichever of CSR and a bitmask is smaller, or none when dense
// storage is smaller still.
enum class SparseFormat { Dense, Bitmask, Csr };

struct EncodedSize {
    std::int64_t bytes = 0;       // total of the parts below
    std::int64_t codeBytes = 0;   // packed codes (or float32 values when not quantized)
    std::int64_t scaleBytes = 0;  // steps and zero points
    std::int64_t indexBytes = 0;  // bitmask, or CSR row pointers + column indices
    int codeBits = 32;            // bits per stored value
    SparseFormat sparse = SparseFormat::Dense;
    std::int64_t float32Bytes = 0;  // the uncompressed size
    double ratio = 1.0;             // float32Bytes / bytes
    std::string description;        // "4-bit codes + 10 float32 steps, CSR (16-bit columns)"
};

std::string sparseFormatName(SparseFormat f);  // "dense", "bitmask", "csr"

struct TensorStats {
    std::string role;  // "kernel", "bias", "gamma", ...
    std::int64_t elements = 0;
    std::int64_t zeros = 0;          // exact zeros after compression
    std::int64_t originalZeros = 0;  // exact zeros before
    double sparsity = 0.0;           // zeros / elements
    std::int64_t levels = 0;         // distinct values after compression (-1: not counted)
    int effectiveBits = 0;           // ceil(log2(levels))
    double mse = 0.0;                // mean of (W' - W)^2
    double sqnrDb = 0.0;             // 10 log10(sum W^2 / sum (W' - W)^2); +inf when exact
    double maxAbsError = 0.0;
    double sumSquares = 0.0;               // sum W^2, for aggregation
    double sumSquaredError = 0.0;          // sum (W' - W)^2
    float minValue = 0.f, maxValue = 0.f;  // of the original
    Histogram original, compressed, error;
    EncodedSize size;
};

// All reported tensors together. Histograms are the sums of the layers' (shared edges).
struct ModelStats {
    TensorStats weights;            // all kernels (and opted-in parameters) as one set
    std::int64_t parameters = 0;    // every parameter of the model
    std::int64_t float32Bytes = 0;  // the whole model in float32
    std::int64_t encodedBytes = 0;  // compressed tensors encoded + everything else float32
    double ratio = 1.0;
};

}  // namespace cwb
