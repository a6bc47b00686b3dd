// The one call the window makes per slider move: compress a copy of a model and measure
// it, in one fused pass over the weights.
//
// Determinism: the weights are cut into fixed chunks whose boundaries do not depend on the
// thread count; each chunk's counts are integers and its sums are accumulated in a fixed
// order, and chunks are merged in index order. Results (weights and statistics) are
// bitwise identical for any `threads`, with or without a profile.
//
// Thread safety: compressModel only reads the model and the profile, so a worker thread may
// run it while other threads read the same model; results share untouched tensors with it.
//
// Backend-neutral: the fused pass over the weights runs on the backend the options name
// (core/backend/backend.h), the CPU when none.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "core/compress/compression_settings.h"
#include "core/model/model.h"
#include "core/stats/weight_stats.h"
#include "core/util/progress.h"

namespace cwb {

class Backend;

// The quantization grid of one compressed kernel, so that integer kernels use the exact
// codes: code = round(W' / step) + zeroPoint. Steps are per tensor (1), per output channel
// (out) or per group ((K / groupSize, rounded up) * out, row-major over (group, channel)),
// where the kernel is seen as a (K, out) matrix, K = kh * kw * in for Conv2D.
struct KernelGrid {
    bool quantized = false;
    Granularity granularity = Granularity::Tensor;
    int groupSize = 0;
    std::vector<float> steps;
    std::vector<std::int32_t> zeroPoints;   // empty when symmetric / uniform alpha
    std::int32_t codeMin = 0, codeMax = 0;  // range of round(W' / step) over the kernel
    int codeBits = 32;                      // bits the codes need; <= 8 allows int8 kernels
};

// Settings-independent facts about a model's weights, computed once per model (it sorts
// every tensor: about 2 s for 10 M weights on 2 threads) and reused across slider moves:
// ranges, and each tensor's sorted distinct values with their counts, from which the
// histograms and levels of threshold/textbook masks with a uniform step or one k-bit step
// per tensor are counted without touching every weight. Optional: the results are the same
// without it, only slower (see bench/results/compress.md).
class WeightProfile;
std::shared_ptr<const WeightProfile> profileWeights(const Model& model, const StatsOptions& stats,
                                                    int threads = 0, const Progress& progress = {});

// One Dense/Conv2D layer's statistics and the settings it was compressed with.
struct LayerStats {
    int layerIndex = -1;
    std::string name;
    std::string className;     // "Dense", "Conv2D"
    bool compressed = false;   // false: kept float32 (override, onlyLayer, ...)
    LayerSettings settings;    // as applied (meaningful when compressed)
    std::string settingsText;  // "alpha 0.05, rho 0.02" / "4-bit sym per channel, 2:4"
    TensorStats kernel;
    std::vector<TensorStats> others;  // biases / BN parameters when the plan opts them in
};

struct CompressionResult {
    Model model;                     // the compressed copy; untouched tensors are shared
    std::vector<KernelGrid> grids;   // one per model layer (quantized == false if untouched)
    std::vector<LayerStats> layers;  // one per Dense/Conv2D layer, in model order
    ModelStats total;
    double seconds = 0.0;  // wall time of the call
};

struct CompressOptions {
    StatsOptions stats;
    int threads = 0;                               // 0 = all cores
    std::shared_ptr<const WeightProfile> profile;  // from profileWeights() on the same model
    Backend* backend = nullptr;                    // runs the fused pass; nullptr: the CPU
};

// Throws cwb::Error for an invalid plan (see validatePlan) and Cancelled when the
// progress callback asks to stop.
CompressionResult compressModel(const Model& model, const CompressionPlan& plan,
                                const CompressOptions& options = {}, const Progress& progress = {});

}  // namespace cwb
