// The whole-model table's row pass on the CPU (see scheme_rows.h).
#include "core/llm/scheme_rows.h"

#include <algorithm>
#include <atomic>

#include "core/quant/quant_rows.h"
#include "core/util/mapped_file.h"
#include "core/util/parallel.h"

namespace cwb {

namespace {

// Rows per chunk: the unit of determinism (sums per chunk, merged in order) and of
// cancellation (well under a millisecond of the K formats' search on 4096-wide rows).
constexpr long long kChunkRows = 16;

SchemeRowSums emptySums(const SchemeRowsJob& job) {
    SchemeRowSums s;
    s.formatError.assign(job.formats.size(), 0.0);
    s.ruleSums.assign(job.rules.size(), {});
    return s;
}

}  // namespace

SchemeRowSums measureSchemeRowsOnCpu(const SchemeRowsJob& job, int threads,
                                     const Progress& progress) {
    const Tensor& tensor = *job.tensor;
    const std::int64_t rows = tensor.shape()[0], cols = tensor.shape()[1];
    const long long chunks = (rows + kChunkRows - 1) / kChunkRows;
    std::vector<SchemeRowSums> sums(static_cast<std::size_t>(chunks));
    std::atomic<bool> stop{false};
    std::atomic<long long> done{0};
    threads = std::max(1, std::min<int>(resolveThreads(threads), static_cast<int>(chunks)));
    // Chunks are claimed one by one, so a thread the machine slows down does not leave the
    // other waiting at the end of each tensor; the sums are per chunk, so the figures do not
    // depend on which thread took which.
    std::atomic<long long> next{0};
    parallelFor(threads, threads, [&](long long, long long, int worker) {
        std::vector<float> row(static_cast<std::size_t>(cols));
        std::vector<double> formatError(job.formats.size());
        std::vector<std::byte> scratch;
        const std::size_t rowBytes = dtypeStorageBytes(tensor.dtype(), std::uint64_t(cols));
        for (long long c = next++; c < chunks && !stop; c = next++) {
            SchemeRowSums& s = sums[static_cast<std::size_t>(c)];
            s = emptySums(job);
            const long long first = c * kChunkRows;
            const long long last = std::min<long long>(rows, first + kChunkRows);
            // The chunk's bytes come into a buffer that stays in the cache (pread where the
            // tensor is mapped; see tensorBytes).
            const std::byte* bytes = tensorBytes(tensor, std::size_t(first) * rowBytes,
                                                 std::size_t(last - first) * rowBytes, scratch);
            for (long long r = first; r < last; ++r) {
                // The row is decoded once (with its sums) and stays in the cache while each
                // scheme measures it; nothing is written.
                float lo = 0.f, hi = 0.f;
                s.signal += quant::dequantizeRowSquares(
                    tensor.dtype(), bytes + std::size_t(r - first) * rowBytes, row.data(), cols,
                    job.extremes ? &lo : nullptr, job.extremes ? &hi : nullptr);
                s.min = std::min(s.min, lo);
                s.max = std::max(s.max, hi);
                quant::quantizationErrors(job.formats, row.data(), cols, formatError.data());
                for (std::size_t f = 0; f < job.formats.size(); ++f)
                    s.formatError[f] += formatError[f];
                for (std::size_t k = 0; k < job.rules.size(); ++k) {
                    quant::StepErrorSums e;  // per row, then added: the sums' order of before
                    quant::addStepError(row.data(), cols, job.rules[k], e);
                    s.ruleSums[k].error += e.error;
                    s.ruleSums[k].zeros += e.zeros;
                }
            }
            progress.stepFromWorker(worker, ++done, chunks, stop);
        }
    });
    if (stop) throw Cancelled();
    SchemeRowSums total = emptySums(job);
    for (const SchemeRowSums& s : sums) {
        total.signal += s.signal;
        total.min = std::min(total.min, s.min);
        total.max = std::max(total.max, s.max);
        for (std::size_t f = 0; f < job.formats.size(); ++f)
            total.formatError[f] += s.formatError[f];
        for (std::size_t k = 0; k < job.rules.size(); ++k) {
            total.ruleSums[k].error += s.ruleSums[k].error;
            total.ruleSums[k].zeros += s.ruleSums[k].zeros;
        }
    }
    return total;
}

}  // namespace cwb
