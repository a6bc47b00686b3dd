// What to do to the weights: quantization and pruning settings, and a plan that applies
// them to a model with per-layer overrides; the kernels that run the result; and every
// setting's one name (parse and format), which the command line, the window's boxes and
// its remembered settings all use. Plain values, cheap to copy: the window holds one
// WorkbenchSettings and hands its plan to compressModel() on a worker thread.
#pragma once

#include <optional>
#include <string>
#include <string_view>
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
    bool operator==(const QuantSettings&) const = default;
};

// bits = 0: the uniform step alpha. Granularity, scheme and clip only mean something with a
// bit width, so they go back to their defaults and the settings stay valid.
void clearBitWidth(QuantSettings& q);

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
    bool operator==(const PruneSettings&) const = default;
};

// Everything applied to one layer.
struct LayerSettings {
    QuantSettings quant;
    PruneSettings prune;
    bool operator==(const LayerSettings&) const = default;
};

// A per-layer exception to the plan's defaults, by layer name.
struct LayerOverride {
    std::string layer;
    bool keepFloat = false;                 // leave this layer untouched
    std::optional<LayerSettings> settings;  // otherwise, these settings instead of the defaults
    bool operator==(const LayerOverride&) const = default;
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
    bool operator==(const CompressionPlan&) const = default;
};

// Which kernels run a compressed model: timed per layer (Auto), or one kind forced.
enum class KernelChoice { Auto, Float, Int8, Sparse };

// Distillation's settings. They sit beside the compression's so that one owner, one undo
// history and one save cover everything the window's controls set.
struct DistillSettings {
    double temperature = 4.0;  // T of the soft targets
    double lambda = 0.5;       // weight of the soft-target loss
    std::string student;       // architecture spec (core/train/arch_spec.h); empty = default
    bool operator==(const DistillSettings&) const = default;
};

// Which tensors of a language model a llama.cpp block format quantizes.
enum class LlmScope {
    Blocks,  // the seven projection matrices of every block
    All      // every 2-D tensor: the block matrices, token_embd and output (--pure)
};

// Language models only: a llama.cpp block format as the scheme instead of the plan's alpha,
// rho and k-bit (which then do not apply), and what it covers. Keras models ignore it.
struct LlmSettings {
    std::string format;  // "" = the plan's schemes; else a block format's name, "Q4_K"
    LlmScope scope = LlmScope::Blocks;
    bool operator==(const LlmSettings&) const = default;
};

// Everything the workbench's controls set.
struct WorkbenchSettings {
    CompressionPlan plan;
    KernelChoice kernels = KernelChoice::Auto;  // for accuracy and latency
    DistillSettings distill;
    LlmSettings llm;
    bool operator==(const WorkbenchSettings&) const = default;

    // Does the compressed model change between a and b?
    static bool compressionDiffers(const WorkbenchSettings& a, const WorkbenchSettings& b) {
        return a.plan != b.plan || a.llm != b.llm;
    }
    // Do accuracy or latency change (the compression, or the kernels that run it)?
    static bool evaluationDiffers(const WorkbenchSettings& a, const WorkbenchSettings& b) {
        return compressionDiffers(a, b) || a.kernels != b.kernels;
    }
};

// The plan resolved for one layer of a model: nullopt when the layer stays float32
// (not a Dense/Conv2D layer, an override, keepFirst/LastFloat or onlyLayer).
struct Model;
std::optional<LayerSettings> settingsForLayer(const CompressionPlan& plan, const Model& model,
                                              int layerIndex);

// Throws cwb::Error with one actionable line for settings out of range (bits 1 or 9,
// group size 48, negative alpha, sparsity 1.5, N > M, a layer name that does not exist...).
void validatePlan(const CompressionPlan& plan, const Model& model);

// Names. *Name() gives a value's one name; parse*() also takes the short forms in the
// comments and throws cwb::Error with one line, "unknown scheme 'x'; expected symmetric or
// asymmetric", for anything else; *Names() lists the names in the order a box shows them.
std::string granularityName(Granularity g, int groupSize);  // "tensor", "channel", "group32"
// Sets *groupSize for Granularity::Group (32, 64 or 128).
Granularity parseGranularity(std::string_view text, int* groupSize);
std::vector<std::string> granularityNames();

std::string schemeName(QuantScheme s);  // "symmetric" (sym), "asymmetric" (asym)
QuantScheme parseScheme(std::string_view text);
std::vector<std::string> schemeNames();

std::string clipName(ClipMethod c, double percentile);  // "none", "mse", "p99.9"
// Sets *percentile for ClipMethod::Percentile ("pPCT", PCT in (0, 100]).
ClipMethod parseClip(std::string_view text, double* percentile);

std::string pruneMethodName(PruneMethod m);  // "threshold", "textbook", "sparsity", "l1"...
PruneMethod parsePruneMethod(std::string_view text);
std::vector<std::string> pruneMethodNames();

std::string sparsityScopeName(SparsityScope s);  // "layer" (per-layer), "global"
SparsityScope parseSparsityScope(std::string_view text);

std::string kernelChoiceName(KernelChoice choice);  // "auto", "float", "int8", "sparse"
KernelChoice parseKernelChoice(std::string_view text);
std::vector<std::string> kernelChoiceNames();
// The same without throwing: false for an unknown name.
bool parseKernelChoice(const std::string& text, KernelChoice& out);

std::string llmScopeName(LlmScope s);  // "blocks", "all"
LlmScope parseLlmScope(std::string_view text);
std::vector<std::string> llmScopeNames();

// The llama.cpp block formats a language model's weights can be quantized to, in the order a
// box shows them: "Q8_0", "Q6_K", ... "Q2_K".
std::vector<std::string> llmFormatNames();
// Whether `name` is one of them ("" is not).
bool isLlmFormatName(std::string_view name);

}  // namespace cwb
