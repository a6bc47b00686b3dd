// The CPU's block pass; see block_pass.h.
#include "core/compress/block_pass.h"

#include <cstring>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/quant/quant_rows.h"
#include "core/stats/row_comparison.h"

namespace cwb {

void checkBlockJob(DType format, const FusedJob& job, const FusedOptions& options) {
    checkFusedJobs({job}, options);
    if (!quant::isWeightType(format))
        throw Error("block pass: " + dtypeName(format) +
                    " is not a weight format; choose Q8_0 ... Q6_K, F16, BF16 or F32");
    if (job.quant != QuantKind::None || job.codeSpan > 0)
        throw Error("block pass: a block format takes no other quantizer and counts no codes");
    const auto values = static_cast<long long>(dtypeBlockSize(format));
    if (job.in.cols % values != 0)
        throw Error("block pass: rows of " + std::to_string(job.in.cols) +
                    " weights are not whole blocks of " + std::to_string(values) + " for " +
                    dtypeName(format));
}

FusedResult runBlockPassOnCpu(DType format, const FusedJob& job, const FusedOptions& options,
                              std::byte* blocks, const Progress& progress) {
    checkBlockJob(format, job, options);
    const long long cols = job.in.cols;
    const std::size_t rowBytes = quant::rowBytes(format, cols);
    const auto rowFloats = static_cast<std::size_t>(cols) * sizeof(float);
    const RowDecoder original = [&](long long r, float* out) {
        std::memcpy(out, job.in.data + r * cols, rowFloats);
    };
    // The masked row in `out`, encoded, then decoded over it.
    const RowDecoder coded = [&](long long r, float* out) {
        const long long first = r * cols;
        for (long long c = 0; c < cols; ++c) {
            const float w = job.in.data[first + c];
            out[c] = job.keep(w, first + c) ? w : 0.f;
        }
        std::vector<std::byte> scratch(blocks ? 0 : rowBytes);
        std::byte* packed =
            blocks ? blocks + static_cast<std::size_t>(r) * rowBytes : scratch.data();
        quant::quantizeRow(format, out, packed, cols);
        quant::dequantizeRow(format, packed, out, cols);
        if (job.out) std::memcpy(job.out + first, out, rowFloats);
    };
    RowComparisonOptions compare;
    compare.threads = options.threads;
    compare.histograms = options.histograms;
    compare.weights = options.weights;
    compare.error = options.error;
    TensorStats t = compareRows(job.in.rows, cols, original, coded, compare, progress);
    FusedResult r;
    r.zeros = t.zeros;
    r.originalZeros = t.originalZeros;
    r.sumSquares = t.sumSquares;
    r.sumSquaredError = t.sumSquaredError;
    r.maxAbsError = t.maxAbsError;
    r.original = std::move(t.original);
    r.compressed = std::move(t.compressed);
    r.error = std::move(t.error);
    return r;
}

}  // namespace cwb
