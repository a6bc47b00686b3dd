// Every scheme on one tensor in one pass (see llm_scheme_table.h).
#include "core/llm/llm_scheme_table.h"

#include <algorithm>
#include <atomic>
#include <climits>
#include <cmath>
#include <limits>

#include "core/compress/encoded_size.h"
#include "core/compress/quantize.h"
#include "core/error.h"
#include "core/llm/llm_compress.h"
#include "core/quant/quant_rows.h"
#include "core/quant/step_error.h"
#include "core/util/mapped_file.h"
#include "core/util/parallel.h"

namespace cwb {

namespace {

// Rows per chunk: the unit of determinism (sums per chunk, merged in order) and of
// cancellation (well under a millisecond of the K formats' search on 4096-wide rows).
constexpr long long kChunkRows = 16;

struct ChunkSums {
    double signal = 0.0;
    float min = std::numeric_limits<float>::infinity(), max = -min;
    std::vector<double> error;     // per scheme
    std::vector<long long> zeros;  // per scheme (the step rule's)
};

bool changes(const LayerSettings& s) { return s.quant.enabled() || s.prune.enabled(); }

// The settings the one-pass step rule covers: a uniform step and a threshold.
bool isStepRule(const LayerSettings& s) {
    return s.quant.bits == 0 &&
           (s.prune.method == PruneMethod::None || s.prune.method == PruneMethod::Threshold ||
            s.prune.method == PruneMethod::TextbookThreshold);
}

quant::StepRule stepRule(const LayerSettings& s) {
    quant::StepRule r;
    r.alpha = s.quant.alpha;
    if (s.prune.enabled()) {
        r.rho = s.prune.rho;
        r.textbook = s.prune.method == PruneMethod::TextbookThreshold;
    }
    return r;
}

double sqnr(double signal, double error) {
    return error > 0.0 ? 10.0 * std::log10(signal / error)
                       : std::numeric_limits<double>::infinity();
}

// compressModel's encoded size of a Dense kernel (in, out) under a step rule: the codes'
// range from the tensor's extremes, a float32 step and an int32 offset, and a bitmask or
// CSR for the zeros where that is smaller (compress_model.cpp, makeStats).
std::uint64_t stepRuleBytes(const LayerSettings& s, std::int64_t rows, std::int64_t cols,
                            long long zeros, float min, float max) {
    EncodingInput enc;
    enc.elements = rows * cols;
    enc.nonzeros = enc.elements - zeros;
    enc.outputs = rows;
    enc.reduction = cols;
    if (s.quant.alpha > 0.f) {
        const double lo = std::clamp<double>(roundHalfAway(min / s.quant.alpha), INT32_MIN, 0);
        const double hi = std::clamp<double>(roundHalfAway(max / s.quant.alpha), 0, INT32_MAX);
        enc.codeBits = std::max(1, effectiveBits(static_cast<long long>(hi - lo) + 1));
        enc.scaleBytes = 8;
    } else {
        enc.codeBits = 32;
    }
    return static_cast<std::uint64_t>(encodeSize(enc).bytes);
}

}  // namespace

std::vector<LlmSchemeCell> measureSchemes(const Tensor& tensor, const std::vector<DType>& formats,
                                          int threads, const Progress& progress) {
    std::vector<LlmScheme> schemes;
    for (DType f : formats) schemes.push_back({f, {}});
    return measureSchemes(tensor, schemes, threads, progress);
}

std::vector<LlmSchemeCell> measureSchemes(const Tensor& tensor,
                                          const std::vector<LlmScheme>& schemes, int threads,
                                          const Progress& progress) {
    if (tensor.shape().size() != 2) throw Error("measureSchemes: the tensor is not a matrix");
    const std::int64_t rows = tensor.shape()[0], cols = tensor.shape()[1];
    const std::size_t n = schemes.size();
    for (const LlmScheme& s : schemes) {
        if (!s.format) continue;
        const DType f = *s.format;
        if (!quant::isWeightType(f) || !dtypeIsBlock(f))
            throw Error("measureSchemes: " + dtypeName(f) + " is not a llama.cpp block format");
        if (cols % static_cast<std::int64_t>(dtypeBlockSize(f)) != 0)
            throw Error("measureSchemes: rows of " + std::to_string(cols) +
                        " values are not whole " + dtypeName(f) + " blocks");
    }
    // What the row pass measures: formats and step rules; other settings go whole afterwards.
    std::vector<bool> inPass(n);
    for (std::size_t k = 0; k < n; ++k)
        inPass[k] =
            schemes[k].format || (changes(schemes[k].settings) && isStepRule(schemes[k].settings));
    const bool anyStepRule =
        std::any_of(schemes.begin(), schemes.end(), [&](const LlmScheme& s) { return !s.format; });
    std::vector<quant::StepRule> rules(n);
    for (std::size_t k = 0; k < n; ++k)
        if (!schemes[k].format) rules[k] = stepRule(schemes[k].settings);

    // The block formats go together: quantizationErrors shares one pass among the 32-value
    // ones.
    std::vector<DType> formats;
    std::vector<std::size_t> formatAt;
    for (std::size_t k = 0; k < n; ++k)
        if (schemes[k].format) {
            formats.push_back(*schemes[k].format);
            formatAt.push_back(k);
        }

    const long long chunks = (rows + kChunkRows - 1) / kChunkRows;
    std::vector<ChunkSums> sums(static_cast<std::size_t>(chunks));
    std::atomic<bool> stop{false};
    std::atomic<long long> done{0};
    threads = std::max(1, std::min<int>(resolveThreads(threads), static_cast<int>(chunks)));
    // Chunks are claimed one by one, so a thread the machine slows down does not leave the
    // other waiting at the end of each tensor; the sums are per chunk, so the figures do not
    // depend on which thread took which.
    std::atomic<long long> next{0};
    parallelFor(threads, threads, [&](long long, long long, int worker) {
        std::vector<float> row(static_cast<std::size_t>(cols));
        std::vector<double> formatError(formats.size());
        std::vector<std::byte> scratch;
        const std::size_t rowBytes = dtypeStorageBytes(tensor.dtype(), std::uint64_t(cols));
        for (long long c = next++; c < chunks && !stop; c = next++) {
            ChunkSums& s = sums[static_cast<std::size_t>(c)];
            s.error.assign(n, 0.0);
            s.zeros.assign(n, 0);
            const long long first = c * kChunkRows;
            const long long last = std::min<long long>(rows, first + kChunkRows);
            // The chunk's bytes come into a buffer that stays in the cache (pread where the
            // tensor is mapped; see tensorBytes).
            const std::byte* bytes = tensorBytes(tensor, std::size_t(first) * rowBytes,
                                                 std::size_t(last - first) * rowBytes, scratch);
            for (long long r = first; r < last; ++r) {
                // The row is decoded once (with its sums) and stays in the cache while each
                // scheme measures it; nothing is written.
                float lo = 0.f, hi = 0.f;  // the step rules' code range needs them
                s.signal += quant::dequantizeRowSquares(
                    tensor.dtype(), bytes + std::size_t(r - first) * rowBytes, row.data(), cols,
                    anyStepRule ? &lo : nullptr, anyStepRule ? &hi : nullptr);
                s.min = std::min(s.min, lo);
                s.max = std::max(s.max, hi);
                quant::quantizationErrors(formats, row.data(), cols, formatError.data());
                for (std::size_t f = 0; f < formats.size(); ++f)
                    s.error[formatAt[f]] += formatError[f];
                for (std::size_t k = 0; k < n; ++k) {
                    if (!inPass[k] || schemes[k].format) continue;
                    quant::StepErrorSums e;
                    quant::addStepError(row.data(), cols, rules[k], e);
                    s.error[k] += e.error;
                    s.zeros[k] += e.zeros;
                }
            }
            progress.stepFromWorker(worker, ++done, chunks, stop);
        }
    });
    if (stop) {
        releaseResident(tensor);
        throw Cancelled();
    }
    double signal = 0.0;
    float min = std::numeric_limits<float>::infinity(), max = -min;
    std::vector<double> error(n, 0.0);
    std::vector<long long> zeros(n, 0);
    for (const ChunkSums& s : sums) {
        signal += s.signal;
        min = std::min(min, s.min);
        max = std::max(max, s.max);
        for (std::size_t k = 0; k < n; ++k) {
            error[k] += s.error[k];
            zeros[k] += s.zeros[k];
        }
    }
    const double elements = double(rows) * double(cols);
    std::vector<LlmSchemeCell> cells(n);
    for (std::size_t k = 0; k < n; ++k) {
        LlmSchemeCell& cell = cells[k];
        const LlmScheme& scheme = schemes[k];
        if (scheme.format) {
            cell.bytes = static_cast<std::uint64_t>(quant::rowBytes(*scheme.format, cols)) *
                         static_cast<std::uint64_t>(rows);
            cell.sqnrDb = sqnr(signal, error[k]);
        } else if (!changes(scheme.settings)) {  // the tensor as stored
            cell.bytes = tensor.byteSize();
            cell.sqnrDb = std::numeric_limits<double>::infinity();
        } else if (inPass[k]) {
            cell.bytes = stepRuleBytes(scheme.settings, rows, cols, zeros[k], min, max);
            cell.sqnrDb = sqnr(signal, error[k]);
        } else {  // k-bit codes, sparsity targets: the whole tensor through compressModel
            LlmCompression compression;
            compression.settings = scheme.settings;
            LlmTensorOptions options;
            options.threads = threads;
            options.stats.histograms = false;
            options.stats.exactLevels = false;
            const LlmTensorReport r =
                compressLlmTensor("table", tensor, compression, options, progress);
            cell.bytes = static_cast<std::uint64_t>(r.stats.size.bytes);
            cell.sqnrDb = r.stats.sqnrDb;
        }
        cell.bitsPerWeight = 8.0 * double(cell.bytes) / elements;
    }
    releaseResident(tensor);  // the page cache keeps the bytes; this process no longer does
    return cells;
}

}  // namespace cwb
