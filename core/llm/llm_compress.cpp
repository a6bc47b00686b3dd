// Compression of Llama weights; see llm_compress.h.
#include "core/llm/llm_compress.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstring>
#include <limits>

#include "core/compress/compress_model.h"
#include "core/error.h"
#include "core/llm/block_measure.h"
#include "core/llm/compact_matrix.h"
#include "core/llm/linear.h"
#include "core/llm/llama_forward.h"
#include "core/quant/quant_rows.h"
#include "core/stats/row_comparison.h"
#include "core/util/mapped_file.h"
#include "core/util/memory.h"
#include "core/util/parallel.h"

namespace cwb {

namespace {

struct Projection {
    const char* role;
    Tensor LlamaBlockWeights::*member;
};

constexpr Projection kProjections[] = {
    {"attn_q", &LlamaBlockWeights::q},      {"attn_k", &LlamaBlockWeights::k},
    {"attn_v", &LlamaBlockWeights::v},      {"attn_output", &LlamaBlockWeights::o},
    {"ffn_gate", &LlamaBlockWeights::gate}, {"ffn_up", &LlamaBlockWeights::up},
    {"ffn_down", &LlamaBlockWeights::down},
};

// A tensor a scheme applies to: where it goes in the result, and its name.
struct Target {
    std::string name;
    Tensor* target = nullptr;
    Tensor source;
};

// The seven projection matrices of every block, in model order.
std::vector<Target> blockTargets(const LlamaConfig& config, const LlamaWeights& weights,
                                 LlamaWeights& result) {
    std::vector<Target> targets;
    for (int layer = 0; layer < config.layers; ++layer)
        for (const Projection& p : kProjections)
            targets.push_back({llamaTensorName(p.role, layer),
                               &(result.blocks[static_cast<std::size_t>(layer)].*p.member),
                               weights.blocks[static_cast<std::size_t>(layer)].*p.member});
    return targets;
}

// Host memory left uninitialized: every byte is written before it is read. (A 7B matrix's
// Dense kernel is 180 MB that zeroing and then copying in would each pass over; the buffer
// pool would keep it after use, which a caller under a memory cap cannot afford.)
class RawStorage final : public Storage {
public:
    explicit RawStorage(std::size_t bytes) : m_bytes(new std::byte[bytes]), m_size(bytes) {}
    const std::byte* data() const override { return m_bytes.get(); }
    std::byte* mutableData() override { return m_bytes.get(); }
    std::size_t size() const override { return m_size; }

private:
    std::unique_ptr<std::byte[]> m_bytes;
    std::size_t m_size;
};

// A [out, in] matrix of any dtype as a Keras Dense kernel: float32 (in, out). Rows are
// decoded 16 at a time and written as runs of 16 floats (one cache line) per input, not one
// scattered float per row; `progress` is asked after every run of rows, so a stale request
// stops within milliseconds even on a 7B matrix.
Tensor toDenseKernel(const Tensor& w, int threads, const Progress& progress = {}) {
    constexpr long long kRows = 16;
    const std::int64_t out = w.shape()[0], in = w.shape()[1];
    Tensor result({in, out}, DType::F32,
                  std::make_shared<RawStorage>(static_cast<std::size_t>(out * in) * sizeof(float)));
    float* kernel = result.mutableFloats().data();
    const long long runs = (out + kRows - 1) / kRows;
    std::atomic<bool> stop{false};
    parallelFor(runs, threads, [&](long long begin, long long end, int worker) {
        std::vector<float> rows(static_cast<std::size_t>(kRows * in));
        for (long long run = begin; run < end && !stop; ++run) {
            const std::int64_t o0 = run * kRows, count = std::min<std::int64_t>(kRows, out - o0);
            for (std::int64_t k = 0; k < count; ++k)
                tensorRowToFloat(w, o0 + k, rows.data() + k * in);
            for (std::int64_t i = 0; i < in; ++i) {
                float* dst = kernel + i * out + o0;
                for (std::int64_t k = 0; k < count; ++k) dst[k] = rows[std::size_t(k * in + i)];
            }
            progress.stepFromWorker(worker, run - begin + 1, end - begin, stop);
        }
    });
    if (stop) throw Cancelled();
    return result;
}

double bitsPerWeight(const TensorStats& s) {
    return s.elements ? 8.0 * static_cast<double>(s.size.bytes) / static_cast<double>(s.elements)
                      : 0.0;
}

RowDecoder rowsOf(const Tensor& t) {
    return [&t](long long row, float* out) { tensorRowToFloat(t, row, out); };
}

HistogramSpec symmetricSpec(const HistogramSpec& wanted, double bound, double fallback) {
    if (!wanted.automatic()) return wanted;
    const double m = (bound > 0.0 && std::isfinite(bound) ? bound : fallback) * (1.0 + 1e-6);
    return {wanted.bins, -m, m};
}

// The three histograms of every compressed tensor on edges shared by all of them, from a
// second pass over the original and the stored values (the first gave every other figure).
void fillHistograms(const std::vector<Target>& targets, std::vector<TensorStats>& stats,
                    double weightBound, double errorBound, const StatsOptions& wanted, int threads,
                    const std::function<void()>& advance) {
    RowComparisonOptions options;
    options.threads = threads;
    options.weights = symmetricSpec(wanted.weights, weightBound, 1.0);
    options.error =
        wanted.errorSharesWeightEdges
            ? options.weights
            : symmetricSpec(wanted.error, errorBound, 1e-6 * std::max(weightBound, 1.0));
    for (std::size_t k = 0; k < targets.size(); ++k) {
        const Target& t = targets[k];
        TensorStats h = compareRows(t.source.shape()[0], t.source.shape()[1], rowsOf(t.source),
                                    rowsOf(*t.target), options);
        stats[k].original = std::move(h.original);
        stats[k].compressed = std::move(h.compressed);
        stats[k].error = std::move(h.error);
        releaseResident(t.source);
        advance();
    }
}

// The workbench's schemes on the block matrices, with the Keras semantics and statistics by
// construction: each matrix is a Dense layer of a one-layer Model handed to compressModel
// (all of them in one Model for global sparsity, which ranks every weight), and its result is
// kept in the compact exact form of compact_matrix.h, so that a 7B model never has more
// than one matrix in float32.
LlmCompressionResult compressWithPlan(const LlamaConfig& config, const LlamaWeights& weights,
                                      const LayerSettings& settings,
                                      const LlmCompressOptions& options, const Progress& progress) {
    const int threads = resolveThreads(options.threads);
    LlmCompressionResult result;
    result.weights = weights;
    const std::vector<Target> targets = blockTargets(config, weights, result.weights);
    std::uint64_t float32Bytes = 0;
    for (const Target& t : targets)
        float32Bytes += static_cast<std::uint64_t>(t.source.elements()) * sizeof(float);
    const bool global = settings.prune.enabled() &&
                        settings.prune.method == PruneMethod::TargetSparsity &&
                        settings.prune.scope == SparsityScope::Global;
    const std::size_t group = global ? targets.size() : 1;
    if (global)  // float32 kernels and compressModel's float32 results: two copies
        ensureFitsInMemory(2 * float32Bytes,
                           "global sparsity over every block matrix (float32; choose per-layer "
                           "sparsity for a model this size)");

    const bool histograms = options.stats.histograms;
    const long long steps = static_cast<long long>((targets.size() + group - 1) / group +
                                                   (histograms ? targets.size() : 0));
    long long step = 0;
    auto advance = [&] { progress.step(++step, steps); };
    const Progress inner{
        [&](long long, long long) { return !progress.callback || progress.callback(step, steps); }};
    CompressOptions compressOptions;
    compressOptions.stats = options.stats;
    compressOptions.stats.histograms = false;
    compressOptions.threads = threads;
    CompressionPlan plan;
    plan.defaults = settings;

    std::vector<TensorStats> stats;
    double weightBound = 0.0, errorBound = 0.0;
    std::uint64_t float32Left = float32Bytes;  // this matrix and those after it
    for (std::size_t first = 0; first < targets.size(); first += group) {
        Model model;
        model.sourcePath = "the language model";
        model.format = "Llama block matrices";
        const std::size_t last = std::min(targets.size(), first + group);
        for (std::size_t k = first; k < last; ++k) {
            Layer dense;
            dense.name = targets[k].name;
            dense.className = "Dense";
            dense.kind = LayerKind::Dense;
            dense.units = static_cast<int>(targets[k].source.shape()[0]);
            dense.useBias = false;
            dense.kernel = toDenseKernel(targets[k].source, threads);
            model.layers.push_back(std::move(dense));
        }
        CompressionResult compressed = compressModel(model, plan, compressOptions, inner);
        for (std::size_t k = first; k < last; ++k) {
            const std::size_t j = k - first;
            const Target& t = targets[k];
            const Tensor& kernel = compressed.model.layers[j].kernel;
            TensorStats s = std::move(compressed.layers[j].kernel);
            weightBound = std::max(
                {weightBound, std::fabs(double(s.minValue)), std::fabs(double(s.maxValue))});
            if (kernel.bytes() != model.layers[j].kernel.bytes()) {  // changed
                const KernelGrid& grid = compressed.grids[j];
                const CompactMatrix c =
                    compactMatrix(kernel, grid.quantized ? grid.steps : std::vector<float>{},
                                  t.name, float32Left, threads);
                *t.target = c.values;
                weightBound = std::max(weightBound, c.maxAbsValue);
                errorBound = std::max(errorBound, s.maxAbsError);
            }
            releaseResident(t.source);
            float32Left -= static_cast<std::uint64_t>(t.source.elements()) * sizeof(float);
            stats.push_back(std::move(s));
        }
        advance();
    }
    if (histograms)
        fillHistograms(targets, stats, weightBound, errorBound, options.stats, threads, advance);

    for (std::size_t k = 0; k < targets.size(); ++k) {
        LlmTensorReport report;
        report.name = targets[k].name;
        report.shape = targets[k].source.shape();
        report.original = targets[k].source.dtype();
        report.stored = targets[k].target->dtype();
        report.stats = std::move(stats[k]);
        report.bitsPerWeight = bitsPerWeight(report.stats);
        addComparedStats(result.total, report.stats, k == 0);
        result.tensors.push_back(std::move(report));
    }
    result.total.levels = -1;  // distinct values are counted per tensor
    result.total.effectiveBits = -1;
    result.bitsPerWeight = bitsPerWeight(result.total);
    return result;
}

EncodedSize blockSize(const TensorStats& s, const Tensor& packed) {
    EncodedSize size;
    size.bytes = static_cast<std::int64_t>(packed.byteSize());
    size.codeBytes = size.bytes;
    size.float32Bytes = s.elements * 4;
    size.ratio = size.bytes ? static_cast<double>(size.float32Bytes) / size.bytes : 1.0;
    const DType type = packed.dtype();
    size.codeBits = static_cast<int>(8 * dtypeBlockBytes(type) / dtypeBlockSize(type));
    size.description =
        dtypeName(type) + (dtypeIsBlock(type) ? " blocks of " + std::to_string(dtypeBlockSize(type))
                                              : std::string(" values"));
    return size;
}

// A llama.cpp block format on the chosen tensors: quantized row by row from the original
// values, then compared with them row by row (two passes: the error's range, then histograms).
LlmCompressionResult compressWithFormat(const LlamaConfig& config, const LlamaWeights& weights,
                                        DType format, LlmScope scope,
                                        const LlmCompressOptions& options,
                                        const Progress& progress) {
    if (!quant::isWeightType(format) || format == DType::F32)
        throw Error("compression: " + dtypeName(format) +
                    " is not a weight format; choose Q8_0, Q6_K, Q5_K, Q5_1, Q5_0, Q4_K, Q4_1, "
                    "Q4_0, Q3_K, Q2_K, F16 or BF16");
    const int threads = resolveThreads(options.threads);
    LlmCompressionResult result;
    result.weights = weights;
    std::vector<Target> targets = blockTargets(config, weights, result.weights);
    if (scope == LlmScope::All)
        targets.insert(targets.begin(), Target{llamaTensorName("token_embd"),
                                               &result.weights.embedding, weights.embedding});
    const bool tied = weights.output.bytes() == weights.embedding.bytes();
    if (scope == LlmScope::All && !tied)
        targets.push_back({llamaTensorName("output"), &result.weights.output, weights.output});

    const auto block = static_cast<std::int64_t>(dtypeBlockSize(format));
    for (const Target& t : targets)
        if (t.source.shape()[1] % block != 0)
            throw Error("compression: " + t.name + " has rows of " +
                        std::to_string(t.source.shape()[1]) + " values, not a whole number of " +
                        dtypeName(format) + " blocks of " + std::to_string(block) +
                        "; choose a format with blocks of 32 (Q8_0, Q4_0 ...)");

    // Steps: the ranges, then per tensor quantize, the error's range and the histograms.
    const long long steps = 1 + 3 * static_cast<long long>(targets.size());
    long long step = 0;
    auto advance = [&] { progress.step(++step, steps); };
    double weightBound = 0.0;
    for (const Target& t : targets) {
        const RowRange range =
            rowRange(t.source.shape()[0], t.source.shape()[1], rowsOf(t.source), threads);
        if (range.nonFinite > 0)
            throw Error("compression: " + t.name + " holds " + std::to_string(range.nonFinite) +
                        " NaN or infinite weights; the checkpoint is damaged");
        weightBound =
            std::max({weightBound, std::fabs(double(range.min)), std::fabs(double(range.max))});
        releaseResident(t.source);  // each pass over a 7B checkpoint holds one tensor resident
    }
    advance();

    std::vector<TensorStats> stats;
    double errorBound = 0.0;
    for (const Target& t : targets) {
        BlockMeasure measure(t.source, format, options.backend, threads, {});
        advance();
        RowComparisonOptions plain;
        plain.histograms = false;
        stats.push_back(measure.measure(plain));
        *t.target = measure.packed();
        errorBound = std::max(errorBound, stats.back().maxAbsError);
        releaseResident(t.source);
        advance();
    }
    RowComparisonOptions withHistograms;
    withHistograms.threads = threads;
    withHistograms.histograms = options.stats.histograms;
    withHistograms.weights = symmetricSpec(options.stats.weights, weightBound, 1.0);
    withHistograms.error =
        options.stats.errorSharesWeightEdges
            ? withHistograms.weights
            : symmetricSpec(options.stats.error, errorBound, 1e-6 * std::max(weightBound, 1.0));
    for (std::size_t k = 0; k < targets.size(); ++k) {
        const Target& t = targets[k];
        if (withHistograms.histograms) {
            stats[k] = compareRows(t.source.shape()[0], t.source.shape()[1], rowsOf(t.source),
                                   rowsOf(*t.target), withHistograms);
            releaseResident(t.source);
        }
        advance();
        LlmTensorReport report;
        report.name = t.name;
        report.shape = t.source.shape();
        report.original = t.source.dtype();
        report.stored = format;
        report.stats = std::move(stats[k]);
        report.stats.size = blockSize(report.stats, *t.target);
        report.bitsPerWeight = bitsPerWeight(report.stats);
        addComparedStats(result.total, report.stats, k == 0);
        result.tensors.push_back(std::move(report));
    }
    if (scope == LlmScope::All && tied) result.weights.output = result.weights.embedding;
    result.bitsPerWeight = bitsPerWeight(result.total);
    return result;
}

// `rows` evenly spaced rows of a 2-D tensor, copied in its own dtype.
Tensor sampleRows(const Tensor& t, std::int64_t rows) {
    const std::int64_t all = t.shape()[0], cols = t.shape()[1];
    const std::size_t rowBytes = dtypeStorageBytes(t.dtype(), static_cast<std::uint64_t>(cols));
    auto storage = std::make_shared<OwnedStorage>(rowBytes * static_cast<std::size_t>(rows));
    for (std::int64_t i = 0; i < rows; ++i) {
        const std::int64_t r = i * all / rows;
        std::memcpy(storage->mutableData() + i * rowBytes, t.bytes() + r * rowBytes, rowBytes);
    }
    return Tensor({rows, cols}, t.dtype(), storage);
}

// The distinct values of the 32 weights (a block, or a K format's sub-blocks) of `packed`
// around the original's largest |W|.
std::vector<float> levelsOfLargestBlock(const Tensor& original, const Tensor& packed) {
    const std::int64_t rows = original.shape()[0], cols = original.shape()[1];
    std::vector<float> row(static_cast<std::size_t>(cols));
    float best = -1.f;
    std::int64_t bestRow = 0, bestCol = 0;
    for (std::int64_t r = 0; r < rows; ++r) {
        tensorRowToFloat(original, r, row.data());
        for (std::int64_t c = 0; c < cols; ++c)
            if (std::fabs(row[static_cast<std::size_t>(c)]) > best) {
                best = std::fabs(row[static_cast<std::size_t>(c)]);
                bestRow = r;
                bestCol = c;
            }
    }
    tensorRowToFloat(packed, bestRow, row.data());
    // K formats scale sub-blocks of 16 or 32 inside 256: 32 weights show one scale's grid.
    const std::int64_t size = std::min<std::int64_t>(dtypeBlockSize(packed.dtype()), 32);
    const std::int64_t first = bestCol / size * size;
    std::vector<float> levels(row.begin() + first, row.begin() + first + size);
    std::sort(levels.begin(), levels.end());
    levels.erase(std::unique(levels.begin(), levels.end()), levels.end());
    return levels;
}

}  // namespace

LlmTensorReport compressLlmTensor(const std::string& name, const Tensor& tensor,
                                  const LlmCompression& compression,
                                  const LlmTensorOptions& options, const Progress& progress) {
    if (tensor.shape().size() != 2)
        throw Error("compression: " + name + " is not a matrix " + shapeToString(tensor.shape()));
    const int threads = resolveThreads(options.threads);
    const std::int64_t rows = tensor.shape()[0], cols = tensor.shape()[1];
    const bool sampled = options.sampleRows > 0 && options.sampleRows < rows;
    const Tensor source = sampled ? sampleRows(tensor, options.sampleRows) : tensor;
    const bool changes =
        compression.settings.quant.enabled() || compression.settings.prune.enabled();
    LlmTensorReport report;
    report.name = name;
    report.shape = tensor.shape();
    report.original = report.stored = tensor.dtype();
    report.rowsMeasured = source.shape()[0];
    if (compression.format) {
        if (changes)
            throw Error(
                "compression: choose either a block format or the workbench's "
                "quantization and pruning, not both");
        const DType format = *compression.format;
        if (!quant::isWeightType(format) || format == DType::F32)
            throw Error("compression: " + dtypeName(format) + " is not a weight format");
        if (cols % static_cast<std::int64_t>(dtypeBlockSize(format)) != 0)
            throw Error("compression: " + name + " has rows of " + std::to_string(cols) +
                        " values, not a whole number of " + dtypeName(format) + " blocks");
        BlockMeasure measure(source, format, options.backend, threads, progress);
        const RowRange& range = measure.range();
        progress.step(2, 4);
        RowComparisonOptions compare;
        compare.histograms = options.stats.histograms;
        const double bound = std::max(std::fabs(double(range.min)), std::fabs(double(range.max)));
        compare.weights = symmetricSpec(options.stats.weights, bound, 1.0);
        if (options.stats.errorSharesWeightEdges) {
            compare.error = compare.weights;
        } else if (!options.stats.error.automatic() || !compare.histograms) {
            compare.error = options.stats.error;
        } else {
            RowComparisonOptions plain = compare;
            plain.histograms = false;
            const TensorStats first = measure.measure(plain);
            compare.error =
                symmetricSpec(options.stats.error, first.maxAbsError, 1e-6 * std::max(bound, 1.0));
        }
        progress.step(3, 4);
        report.stats = measure.measure(compare);
        report.stats.size = blockSize(report.stats, measure.packed());
        report.stored = format;
        if (options.stats.exactLevels)
            report.blockLevels = levelsOfLargestBlock(source, measure.packed());
        progress.step(4, 4);
    } else {
        Model model;
        model.sourcePath = name;
        model.format = "one Llama matrix";
        Layer dense;
        dense.name = name;
        dense.className = "Dense";
        dense.kind = LayerKind::Dense;
        dense.units = static_cast<int>(source.shape()[0]);
        dense.useBias = false;
        dense.kernel = toDenseKernel(source, threads, progress);
        model.layers.push_back(std::move(dense));
        CompressionPlan plan;
        plan.defaults = compression.settings;
        CompressOptions compressOptions;
        compressOptions.stats = options.stats;
        compressOptions.threads = threads;
        CompressionResult compressed = compressModel(model, plan, compressOptions, progress);
        report.stats = std::move(compressed.layers[0].kernel);
        if (changes) report.stored = DType::F32;
    }
    report.bitsPerWeight = changes || compression.format
                               ? bitsPerWeight(report.stats)
                               : 8.0 * double(dtypeStorageBytes(tensor.dtype(), 256)) / 256.0;
    return report;
}

std::string llamaTensorName(const std::string& role, int layer) {
    return layer < 0 ? role + ".weight" : "blk." + std::to_string(layer) + "." + role + ".weight";
}

LlmCompressionResult compressLlama(const LlamaConfig& config, const LlamaWeights& weights,
                                   const LlmCompression& compression,
                                   const LlmCompressOptions& options, const Progress& progress) {
    const auto start = std::chrono::steady_clock::now();
    validateLlama(config, weights);
    LlmCompressionResult result;
    const bool changesSomething =
        compression.settings.quant.enabled() || compression.settings.prune.enabled();
    if (compression.format) {
        if (changesSomething)
            throw Error(
                "compression: choose either a block format or the workbench's "
                "quantization and pruning, not both");
        result = compressWithFormat(config, weights, *compression.format, compression.scope,
                                    options, progress);
    } else {
        if (compression.scope == LlmScope::All && changesSomething)
            throw Error(
                "compression: the scope 'all' (token_embd and output too) applies to "
                "block formats; the workbench's schemes compress the block matrices");
        result = compressWithPlan(config, weights, compression.settings, options, progress);
    }
    result.seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return result;
}

}  // namespace cwb
