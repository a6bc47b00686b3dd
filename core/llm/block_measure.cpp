// A block format on one matrix and its figures; see block_measure.h.
#include "core/llm/block_measure.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <limits>
#include <memory>

#include "core/backend/backend.h"
#include "core/error.h"
#include "core/llm/linear.h"
#include "core/quant/quant_rows.h"
#include "core/util/parallel.h"

namespace cwb {

namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();

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
    const long long rows = source.shape()[0], cols = source.shape()[1];
    if (!backend) {
        m_packed = quantizeMatrix(source, format, threads, progress);
        return;
    }
    // Left uninitialized: the workers' first touch of their rows is the only write before use
    // (zeroing 180 MB of a 7B matrix first would be a serial pass as long as the copy).
    m_values.reset(new float[static_cast<std::size_t>(rows * cols)]);
    // Per row: the extremes as compareRows finds them (NaN never taken, of tied +0 and -0 the
    // first) and as rowRange does (finite values only), merged in row order as theirs are.
    struct Extremes {
        float lo, hi;
        RowRange finite;
    };
    std::vector<Extremes> extremes(static_cast<std::size_t>(rows));
    std::atomic<bool> stop{false};
    parallelFor(rows, threads, [&](long long begin, long long end, int worker) {
        for (long long r = begin; r < end && !stop; ++r) {
            float* row = m_values.get() + r * cols;
            tensorRowToFloat(source, r, row);
            Extremes e{kInf, -kInf, {kInf, -kInf, 0}};
            for (long long c = 0; c < cols; ++c) {
                e.lo = std::min(e.lo, row[c]);
                e.hi = std::max(e.hi, row[c]);
                if (!std::isfinite(row[c])) {
                    ++e.finite.nonFinite;
                    continue;
                }
                e.finite.min = std::min(e.finite.min, row[c]);
                e.finite.max = std::max(e.finite.max, row[c]);
            }
            extremes[static_cast<std::size_t>(r)] = e;
            progress.stepFromWorker(worker, r - begin, end - begin, stop);
        }
    });
    if (stop) throw Cancelled();
    m_min = m_range.min = kInf;
    m_max = m_range.max = -kInf;
    for (const Extremes& e : extremes) {
        m_min = std::min(m_min, e.lo);
        m_max = std::max(m_max, e.hi);
        m_range.min = std::min(m_range.min, e.finite.min);
        m_range.max = std::max(m_range.max, e.finite.max);
        m_range.nonFinite += e.finite.nonFinite;
    }
    if (rows * cols == 0) m_min = m_max = 0.f;
    if (m_range.min > m_range.max) m_range.min = m_range.max = 0.f;  // nothing finite
    m_hasRange = true;
    m_blocks = packedStorage(source, format);
    m_packed = Tensor(source.shape(), format, m_blocks);
}

const RowRange& BlockMeasure::range() {
    if (!m_hasRange) {  // the CPU's route: a pass over the source when asked
        m_range = rowRange(m_source.shape()[0], m_source.shape()[1], rowsOf(m_source), m_threads,
                           m_progress);
        m_hasRange = true;
    }
    return m_range;
}

TensorStats BlockMeasure::measure(const RowComparisonOptions& options) {
    const long long rows = m_source.shape()[0], cols = m_source.shape()[1];
    RowComparisonOptions mine = options;
    mine.threads = m_threads;
    if (!m_backend)
        return compareRows(rows, cols, rowsOf(m_source), rowsOf(m_packed), mine, m_progress);
    FusedJob job;
    job.in = MatrixView{m_values.get(), rows, cols};
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
