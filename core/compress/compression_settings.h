// What to do to the weights: quantization and pruning settings, and a plan that applies
// them to a model with per-layer overrides. Plain values, cheap to copy: the window builds
// one per slider move and hands it to compressModel() on a worker thread.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace cwb {

// Which weights share one quantization step (scale).
enum class Granularity {
    Tensor,   // one step for the whole kernel
    Channel,  // one step per output channel (last axis of the Keras kernel)
    Group     // one step per `groupSize` consecutive weights along the input (reduction) axis
};

enum class QuantScheme {
    Symmetric,  // codes -(2^(k-1)-1) .. 2^(k-1)-1, zero exact, no zero point
    Asymmetric  // codes 0 .. 2^k-1 with a zero point; the range is widened to contain 0
};

// How the range that the 2^k levels cover is chosen.
enum class ClipMethod {
    None,        // the full range of the kept weights
    Percentile,  // the `clipPercentile` percentile of |W| (or of W at both ends, asymmetric)
    Mse          // the clip ratio of a fixed grid that minimises the quantization MSE
};

struct QuantSettings {
    // Uniform step (the seed article's alpha): W' = round(W / alpha) * alpha, rounding half
    // away from zero, in float32. Used when bits == 0; alpha == 0 means no quantization.
    float alpha = 0.f;
    // 2..8: k-bit codes with the step derived from the range (alpha is then ignored);
    // 0: use alpha.
    int bits = 0;
    Granularity granularity = Granularity::Tensor;
    int groupSize = 32;  // Granularity::Group: 32, 64 or 128
    QuantScheme scheme = QuantScheme::Symmetric;
    ClipMethod clip = ClipMethod::None;
    double clipPercentile = 99.9;  // ClipMethod::Percentile, in (0, 100]

    bool enabled() const { return bits > 0 || alpha > 0.f; }
};

enum class PruneMethod {
    None,
    Threshold,          // mask = |W| >= rho: every |W| < rho becomes exactly 0
    TextbookThreshold,  // the seed article's literal mask = W >= rho; prunes every negative
                        // weight. For teaching only: it wrecks accuracy.
    TargetSparsity,     // prune the smallest |W| until exactly round(sparsity * n) are zero
    StructuredL1,       // zero whole output channels (filters / neurons) with the smallest L1 norm
    StructuredL2,       // ... smallest L2 norm
    NM                  // N:M: keep the N largest |W| of every M consecutive along the input axis
};

enum class SparsityScope {
    PerLayer,  // every layer reaches the target sparsity on its own
    Global     // one magnitude threshold over all compressed layers together
};

struct PruneSettings {
    PruneMethod method = PruneMethod::Threshold;
    float rho = 0.f;        // Threshold, TextbookThreshold; 0 = off for Threshold
    double sparsity = 0.0;  // TargetSparsity, Structured*: fraction in [0, 1]
    SparsityScope scope = SparsityScope::PerLayer;  // TargetSparsity
    int n = 2, m = 4;                               // NM

    bool enabled() const;
};

// Everything applied to one layer.
struct LayerSettings {
    QuantSettings quant;
    PruneSettings prune;
};

// A per-layer exception to the plan's defaults, by layer name.
struct LayerOverride {
    std::string layer;
    bool keepFloat = false;                 // leave this layer untouched
    std::optional<LayerSettings> settings;  // otherwise, these settings instead of the defaults
};

struct CompressionPlan {
    LayerSettings defaults;
    std::vector<LayerOverride> overrides;  // the last override naming a layer wins
    // When not empty, only this layer is compressed ("compress only the selected layer").
    std::string onlyLayer;
    bool keepFirstFloat = false;  // keep the first Dense/Conv2D layer float32
    bool keepLastFloat = false;   // keep the last Dense/Conv2D layer float32
    // Kernels of Dense and Conv2D are compressed; these opt in further parameters
    // (with the layer's quantization settings; pruning applies to kernels only).
    bool includeBiases = false;
    bool includeBatchNorm = false;

    // Convenience for the seed article's two sliders.
    static CompressionPlan uniform(float alpha, float rho);
};

// The plan resolved for one layer of a model: nullopt when the layer stays float32
// (not a Dense/Conv2D layer, an override, keepFirst/LastFloat or onlyLayer).
struct Model;
std::optional<LayerSettings> settingsForLayer(const CompressionPlan& plan, const Model& model,
                                              int layerIndex);

// Throws cwb::Error with one actionable line for settings out of range (bits 1 or 9,
// group size 48, negative alpha, sparsity 1.5, N > M, a layer name that does not exist...).
void validatePlan(const CompressionPlan& plan, const Model& model);

std::string granularityName(Granularity g, int groupSize);  // "tensor", "channel", "group32"
std::string pruneMethodName(PruneMethod m);                 // "threshold", "textbook", ...

}  // namespace cwb
