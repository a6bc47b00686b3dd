// A block format on one matrix and its figures; see block_measure.h.
#include "core/llm/block_measure.h"

#include <algorithm>
#include <atomic>
#include <limits>
#include <memory>

#include "core/backend/backend.h"
#include "core/error.h"
#include "core/llm/linear.h"
#include "core/quant/quant_rows.h"
#include "core/util/parallel.h"

namespace cwb {

namespace {

RowDecoder rowsOf(const Tensor& t) {
    return [&t](long long row, float* out) { tensorRowToFloat(t, row, out); };
}

std::shared_ptr<OwnedStorage> packedStorage(const Tensor& source, DType format) {
    return std::make_shared<OwnedStorage>(quant::rowBytes(format, source.shape()[1]) *
                                          static_cast<std::size_t>(source.shape()[0]));
}

}  // namespace

Tensor quantizeMatrix(const Tensor& source, DType format, int threads, const Progress& progress) {
    const std::int64_t rows = source.shape()[0], cols = source.shape()[1];
    const std::size_t rowBytes = quant::rowBytes(format, cols);
    const auto storage = packedStorage(source, format);
    std::byte* out = storage->mutableData();
    std::atomic<bool> stop{false};
    parallelFor(rows, threads, [&](long long begin, long long end, int worker) {
        std::vector<float> row(static_cast<std::size_t>(cols));
        for (long long r = begin; r < end && !stop; ++r) {
            tensorRowToFloat(source, r, row.data());
            quant::quantizeRow(format, row.data(), out + r * rowBytes, cols);
            if ((r - begin) % 16 == 15)
                progress.stepFromWorker(worker, r - begin, end - begin, stop);
        }
    });
    if (stop) throw Cancelled();
    return Tensor(source.shape(), format, storage);
}

BlockMeasure::BlockMeasure(const Tensor& source, DType format, Backend* backend, int threads,
                           const Progress& progress)
    : m_source(source),
      m_format(format),
      m_backend(backend),
      m_threads(threads),
      m_progress(progress) {
    if (!backend) {
        m_packed = quantizeMatrix(source, format, threads, progress);
        return;
    }
    const long long rows = source.shape()[0], cols = source.shape()[1];
    m_values.resize(static_cast<std::size_t>(rows * cols));
    // Extremes per row, merged in row order: the first of tied +0 and -0, NaN never, as
    // compareRows's chunks find them.
    std::vector<float> lo(static_cast<std::size_t>(rows)), hi(lo.size());
    std::atomic<bool> stop{false};
    parallelFor(rows, threads, [&](long long begin, long long end, int worker) {
        for (long long r = begin; r < end && !stop; ++r) {
            float* row = m_values.data() + r * cols;
            tensorRowToFloat(source, r, row);
            float a = std::numeric_limits<float>::infinity(), b = -a;
            for (long long c = 0; c < cols; ++c) {
                a = std::min(a, row[c]);
                b = std::max(b, row[c]);
            }
            lo[static_cast<std::size_t>(r)] = a;
            hi[static_cast<std::size_t>(r)] = b;
            progress.stepFromWorker(worker, r - begin, end - begin, stop);
        }
    });
    if (stop) throw Cancelled();
    m_min = std::numeric_limits<float>::infinity();
    m_max = -m_min;
    for (std::size_t r = 0; r < lo.size(); ++r) {
        m_min = std::min(m_min, lo[r]);
        m_max = std::max(m_max, hi[r]);
    }
    if (rows * cols == 0) m_min = m_max = 0.f;
    m_blocks = packedStorage(source, format);
    m_packed = Tensor(source.shape(), format, m_blocks);
}

TensorStats BlockMeasure::measure(const RowComparisonOptions& options) {
    const long long rows = m_source.shape()[0], cols = m_source.shape()[1];
    RowComparisonOptions mine = options;
    mine.threads = m_threads;
    if (!m_backend)
        return compareRows(rows, cols, rowsOf(m_source), rowsOf(m_packed), mine, m_progress);
    FusedJob job;
    job.in = MatrixView{m_values.data(), rows, cols};
    FusedOptions fused;
    fused.histograms = options.histograms;
    fused.weights = options.weights;
    fused.error = options.error;
    fused.threads = m_threads;
    FusedResult r = m_backend->runBlockPass(
        m_format, job, fused, m_blocks ? m_blocks->mutableData() : nullptr, m_progress);
    m_blocks.reset();  // packed once: m_packed holds them
    // The figures compareRows gives, from the pass's.
    TensorStats t;
    t.role = "weight";
    t.elements = rows * cols;
    t.levels = -1;
    t.effectiveBits = -1;
    t.zeros = r.zeros;
    t.originalZeros = r.originalZeros;
    t.sumSquares = r.sumSquares;
    t.sumSquaredError = r.sumSquaredError;
    t.maxAbsError = r.maxAbsError;
    t.minValue = m_min;
    t.maxValue = m_max;
    t.original = std::move(r.original);
    t.compressed = std::move(r.compressed);
    t.error = std::move(r.error);
    finishErrorFigures(t);
    return t;
}

}  // namespace cwb
