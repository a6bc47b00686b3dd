// Every block format on one tensor in one pass (see llm_scheme_table.h).
#include "core/llm/llm_scheme_table.h"

#include <atomic>
#include <cmath>
#include <limits>

#include "core/error.h"
#include "core/llm/linear.h"
#include "core/quant/quant_rows.h"
#include "core/util/parallel.h"

namespace cwb {

namespace {

// Rows per chunk: the unit of determinism (sums per chunk, merged in order) and of
// cancellation (a few ms of work for the K formats on a 4096-wide row).
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
        std::vector<float> row(static_cast<std::size_t>(cols)), back(row.size());
        std::vector<std::byte> packed;
        for (DType f : formats) packed.resize(std::max(packed.size(), quant::rowBytes(f, cols)));
        for (long long c = begin; c < end && !stop; ++c) {
            ChunkSums& s = sums[static_cast<std::size_t>(c)];
            s.error.assign(n, 0.0);
            const long long last = std::min<long long>(rows, (c + 1) * kChunkRows);
            for (long long r = c * kChunkRows; r < last; ++r) {
                tensorRowToFloat(tensor, r, row.data());
                for (float v : row) s.signal += double(v) * v;
                for (std::size_t k = 0; k < n; ++k) {
                    quant::quantizeRow(formats[k], row.data(), packed.data(), cols);
                    quant::dequantizeRow(formats[k], packed.data(), back.data(), cols);
                    double e = 0.0;
                    for (std::size_t i = 0; i < row.size(); ++i) {
                        const double d = double(back[i]) - row[i];
                        e += d * d;
                    }
                    s.error[k] += e;
                }
            }
            progress.stepFromWorker(worker, ++done, chunks, stop);
        }
    });
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
