// Every block format on one tensor in one pass (see llm_scheme_table.h).
#include "core/llm/llm_scheme_table.h"

#include <atomic>
#include <cmath>
#include <limits>

#include "core/error.h"
#include "core/llm/linear.h"
#include "core/quant/quant_rows.h"
#include "core/util/mapped_file.h"
#include "core/util/parallel.h"

namespace cwb {

namespace {

// Rows per chunk: the unit of determinism (sums per chunk, merged in order) and of
// cancellation (well under a millisecond of the K formats' search on 4096-wide rows).
constexpr long long kChunkRows = 16;

struct ChunkSums {
    double signal = 0.0;
    std::vector<double> error;  // per format
};

}  // namespace

std::vector<LlmSchemeCell> measureSchemes(const Tensor& tensor, const std::vector<DType>& formats,
                                          int threads, const Progress& progress) {
    if (tensor.shape().size() != 2) throw Error("measureSchemes: the tensor is not a matrix");
    const std::int64_t rows = tensor.shape()[0], cols = tensor.shape()[1];
    for (DType f : formats) {
        if (!quant::isWeightType(f) || !dtypeIsBlock(f))
            throw Error("measureSchemes: " + dtypeName(f) + " is not a llama.cpp block format");
        if (cols % static_cast<std::int64_t>(dtypeBlockSize(f)) != 0)
            throw Error("measureSchemes: rows of " + std::to_string(cols) +
                        " values are not whole " + dtypeName(f) + " blocks");
    }
    const std::size_t n = formats.size();
    const long long chunks = (rows + kChunkRows - 1) / kChunkRows;
    std::vector<ChunkSums> sums(static_cast<std::size_t>(chunks));
    std::atomic<bool> stop{false};
    std::atomic<long long> done{0};
    threads = std::max(1, std::min<int>(resolveThreads(threads), static_cast<int>(chunks)));
    parallelFor(chunks, threads, [&](long long begin, long long end, int worker) {
        std::vector<float> row(static_cast<std::size_t>(cols));
        for (long long c = begin; c < end && !stop; ++c) {
            ChunkSums& s = sums[static_cast<std::size_t>(c)];
            s.error.assign(n, 0.0);
            const long long last = std::min<long long>(rows, (c + 1) * kChunkRows);
            for (long long r = c * kChunkRows; r < last; ++r) {
                // The row is decoded once and stays in the first-level cache while each
                // format measures it; no block is written.
                tensorRowToFloat(tensor, r, row.data());
                s.signal += quant::sumOfSquares(row.data(), cols);
                for (std::size_t k = 0; k < n; ++k)
                    s.error[k] += quant::quantizationError(formats[k], row.data(), cols);
            }
            progress.stepFromWorker(worker, ++done, chunks, stop);
        }
    });
    releaseResident(tensor);  // the page cache keeps the bytes; this process no longer does
    if (stop) throw Cancelled();
    double signal = 0.0;
    std::vector<double> error(n, 0.0);
    for (const ChunkSums& s : sums) {
        signal += s.signal;
        for (std::size_t k = 0; k < n; ++k) error[k] += s.error[k];
    }
    std::vector<LlmSchemeCell> cells(n);
    for (std::size_t k = 0; k < n; ++k) {
        cells[k].bytes = static_cast<std::uint64_t>(quant::rowBytes(formats[k], cols)) *
                         static_cast<std::uint64_t>(rows);
        cells[k].bitsPerWeight = 8.0 * double(cells[k].bytes) / double(rows * cols);
        cells[k].sqnrDb = error[k] > 0.0 ? 10.0 * std::log10(signal / error[k])
                                         : std::numeric_limits<double>::infinity();
    }
    return cells;
}

}  // namespace cwb
