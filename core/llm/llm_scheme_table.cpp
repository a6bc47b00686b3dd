// Every scheme on one tensor in one pass (see llm_scheme_table.h).
#include "core/llm/llm_scheme_table.h"

#include <algorithm>
#include <climits>
#include <cmath>
#include <limits>

#include "core/backend/backend.h"
#include "core/compress/encoded_size.h"
#include "core/compress/quantize.h"
#include "core/error.h"
#include "core/llm/llm_compress.h"
#include "core/llm/scheme_rows.h"
#include "core/quant/quant_rows.h"
#include "core/quant/step_error.h"
#include "core/util/mapped_file.h"

namespace cwb {

namespace {

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
                                          int threads, const Progress& progress, Backend* backend) {
    std::vector<LlmScheme> schemes;
    for (DType f : formats) schemes.push_back({f, {}});
    return measureSchemes(tensor, schemes, threads, progress, backend);
}

std::vector<LlmSchemeCell> measureSchemes(const Tensor& tensor,
                                          const std::vector<LlmScheme>& schemes, int threads,
                                          const Progress& progress, Backend* backend) {
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
    // The block formats go together: quantizationErrors shares one pass among the 32-value
    // ones.
    SchemeRowsJob job;
    job.tensor = &tensor;
    job.extremes =
        std::any_of(schemes.begin(), schemes.end(), [&](const LlmScheme& s) { return !s.format; });
    std::vector<int> passIndex(n, -1);  // the scheme's place among job.formats or job.rules
    for (std::size_t k = 0; k < n; ++k)
        if (schemes[k].format) {
            passIndex[k] = static_cast<int>(job.formats.size());
            job.formats.push_back(*schemes[k].format);
        }
    for (std::size_t k = 0; k < n; ++k)
        if (!schemes[k].format && changes(schemes[k].settings) && isStepRule(schemes[k].settings)) {
            passIndex[k] = static_cast<int>(job.rules.size());
            job.rules.push_back(stepRule(schemes[k].settings));
        }
    SchemeRowSums sums;
    try {
        sums = backendOr(backend).measureSchemeRows(job, threads, progress);
    } catch (const Cancelled&) {
        releaseResident(tensor);
        throw;
    }
    const double elements = double(rows) * double(cols);
    std::vector<LlmSchemeCell> cells(n);
    for (std::size_t k = 0; k < n; ++k) {
        LlmSchemeCell& cell = cells[k];
        const LlmScheme& scheme = schemes[k];
        const int at = passIndex[k];
        if (scheme.format) {
            cell.bytes = static_cast<std::uint64_t>(quant::rowBytes(*scheme.format, cols)) *
                         static_cast<std::uint64_t>(rows);
            cell.sqnrDb = sqnr(sums.signal, sums.formatError[static_cast<std::size_t>(at)]);
        } else if (!changes(scheme.settings)) {  // the tensor as stored
            cell.bytes = tensor.byteSize();
            cell.sqnrDb = std::numeric_limits<double>::infinity();
        } else if (at >= 0) {
            const quant::StepErrorSums& e = sums.ruleSums[static_cast<std::size_t>(at)];
            cell.bytes = stepRuleBytes(scheme.settings, rows, cols, e.zeros, sums.min, sums.max);
            cell.sqnrDb = sqnr(sums.signal, e.error);
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
