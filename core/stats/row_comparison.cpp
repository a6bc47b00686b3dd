// Row-wise statistics of a compressed matrix; see row_comparison.h.
#include "core/stats/row_comparison.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <limits>
#include <vector>

#include "core/error.h"
#include "core/util/parallel.h"

namespace cwb {

namespace {

// Rows per chunk: the unit of work and of summation order.
constexpr long long kChunkRows = 8;

struct ChunkSums {
    long long zeros = 0, originalZeros = 0;
    double sumSquares = 0, sumSquaredError = 0, maxAbsError = 0;
    float min = std::numeric_limits<float>::infinity();
    float max = -std::numeric_limits<float>::infinity();
    long long nonFinite = 0;
    Histogram original, compressed, error;
};

long long chunkCount(long long rows) { return (rows + kChunkRows - 1) / kChunkRows; }

}  // namespace

RowRange rowRange(long long rows, long long cols, const RowDecoder& decode, int threads,
                  const Progress& progress) {
    const long long chunks = chunkCount(rows);
    std::vector<RowRange> parts(static_cast<std::size_t>(chunks));
    std::atomic<bool> stop{false};
    parallelFor(chunks, threads, [&](long long begin, long long end, int worker) {
        std::vector<float> row(static_cast<std::size_t>(cols));
        for (long long c = begin; c < end && !stop; ++c) {
            progress.stepFromWorker(worker, c, chunks, stop);
            RowRange& part = parts[static_cast<std::size_t>(c)];
            part.min = std::numeric_limits<float>::infinity();
            part.max = -part.min;
            for (long long r = c * kChunkRows; r < std::min(rows, (c + 1) * kChunkRows); ++r) {
                decode(r, row.data());
                for (const float v : row) {
                    if (!std::isfinite(v)) {
                        ++part.nonFinite;
                        continue;
                    }
                    part.min = std::min(part.min, v);
                    part.max = std::max(part.max, v);
                }
            }
        }
    });
    if (stop) throw Cancelled();
    RowRange total;
    total.min = std::numeric_limits<float>::infinity();
    total.max = -total.min;
    for (const RowRange& p : parts) {
        total.min = std::min(total.min, p.min);
        total.max = std::max(total.max, p.max);
        total.nonFinite += p.nonFinite;
    }
    if (total.min > total.max) total.min = total.max = 0.f;  // nothing finite
    return total;
}

TensorStats compareRows(long long rows, long long cols, const RowDecoder& original,
                        const RowDecoder& compressed, const RowComparisonOptions& options,
                        const Progress& progress) {
    const long long chunks = chunkCount(rows);
    std::vector<ChunkSums> parts(static_cast<std::size_t>(chunks));
    // A stale request stops every worker at its next chunk, not only the one that asks.
    std::atomic<bool> stop{false};
    parallelFor(chunks, options.threads, [&](long long begin, long long end, int worker) {
        std::vector<float> w(static_cast<std::size_t>(cols)), q(w.size());
        for (long long c = begin; c < end && !stop; ++c) {
            progress.stepFromWorker(worker, c, chunks, stop);
            ChunkSums& s = parts[static_cast<std::size_t>(c)];
            if (options.histograms) {
                s.original = Histogram(options.weights);
                s.compressed = Histogram(options.weights);
                s.error = Histogram(options.error);
            }
            for (long long r = c * kChunkRows; r < std::min(rows, (c + 1) * kChunkRows); ++r) {
                original(r, w.data());
                compressed(r, q.data());
                for (std::size_t i = 0; i < w.size(); ++i) {
                    const float e = q[i] - w[i];
                    s.zeros += q[i] == 0.f;
                    s.originalZeros += w[i] == 0.f;
                    s.sumSquares += static_cast<double>(w[i]) * w[i];
                    s.sumSquaredError += static_cast<double>(e) * e;
                    s.maxAbsError = std::max(s.maxAbsError, static_cast<double>(std::fabs(e)));
                    s.min = std::min(s.min, w[i]);
                    s.max = std::max(s.max, w[i]);
                    if (options.histograms) {
                        s.original.add(w[i]);
                        s.compressed.add(q[i]);
                        s.error.add(e);
                    }
                }
            }
        }
    });
    if (stop) throw Cancelled();
    progress.step(chunks, chunks);

    TensorStats t;
    t.role = "weight";
    t.elements = rows * cols;
    t.levels = -1;
    t.effectiveBits = -1;
    t.minValue = std::numeric_limits<float>::infinity();
    t.maxValue = -t.minValue;
    if (options.histograms) {
        t.original = Histogram(options.weights);
        t.compressed = Histogram(options.weights);
        t.error = Histogram(options.error);
    }
    for (const ChunkSums& s : parts) {  // in chunk order: deterministic sums
        t.zeros += s.zeros;
        t.originalZeros += s.originalZeros;
        t.sumSquares += s.sumSquares;
        t.sumSquaredError += s.sumSquaredError;
        t.maxAbsError = std::max(t.maxAbsError, s.maxAbsError);
        t.minValue = std::min(t.minValue, s.min);
        t.maxValue = std::max(t.maxValue, s.max);
        if (options.histograms) {
            t.original.merge(s.original);
            t.compressed.merge(s.compressed);
            t.error.merge(s.error);
        }
    }
    if (t.elements == 0) t.minValue = t.maxValue = 0.f;
    finishErrorFigures(t);
    return t;
}

void finishErrorFigures(TensorStats& t) {
    const double n = static_cast<double>(t.elements);
    t.sparsity = n > 0 ? static_cast<double>(t.zeros) / n : 0.0;
    t.mse = n > 0 ? t.sumSquaredError / n : 0.0;
    t.sqnrDb = t.sumSquaredError > 0.0 ? 10.0 * std::log10(t.sumSquares / t.sumSquaredError)
                                       : std::numeric_limits<double>::infinity();
}

void addTensorStats(TensorStats& total, const TensorStats& s, bool first) {
    total.elements += s.elements;
    total.zeros += s.zeros;
    total.originalZeros += s.originalZeros;
    total.sumSquares += s.sumSquares;
    total.sumSquaredError += s.sumSquaredError;
    total.maxAbsError = std::max(total.maxAbsError, s.maxAbsError);
    total.minValue = first ? s.minValue : std::min(total.minValue, s.minValue);
    total.maxValue = first ? s.maxValue : std::max(total.maxValue, s.maxValue);
    if (!s.original.counts.empty()) {
        if (first) {
            total.original = s.original;
            total.compressed = s.compressed;
            total.error = s.error;
        } else {
            total.original.merge(s.original);
            total.compressed.merge(s.compressed);
            total.error.merge(s.error);
        }
    }
    total.size.bytes += s.size.bytes;
    total.size.codeBytes += s.size.codeBytes;
    total.size.scaleBytes += s.size.scaleBytes;
    total.size.indexBytes += s.size.indexBytes;
    total.size.float32Bytes += s.size.float32Bytes;
}

void addComparedStats(TensorStats& total, const TensorStats& s, bool first) {
    if (first) {
        total = s;
        total.role = "all";
        return;
    }
    addTensorStats(total, s, false);
    finishErrorFigures(total);
    total.size.ratio = total.size.bytes > 0 ? static_cast<double>(total.size.float32Bytes) /
                                                  static_cast<double>(total.size.bytes)
                                            : 1.0;
}

}  // namespace cwb
