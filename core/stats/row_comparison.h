// Statistics of a compressed matrix against its original when neither is float32 in memory
// (a bf16 checkpoint and its llama.cpp blocks): both are decoded a row at a time, so a matrix
// of any size costs two rows of floats per thread. Rows are taken in fixed chunks whose sums
// merge in order, so the figures do not depend on the thread count.
#pragma once

#include <functional>

#include "core/stats/histogram.h"
#include "core/stats/weight_stats.h"
#include "core/util/progress.h"

namespace cwb {

// Writes row `row` (cols values) of a matrix as float32 into `out`. Called from several
// threads at once.
using RowDecoder = std::function<void(long long row, float* out)>;

struct RowRange {
    float min = 0.f, max = 0.f;
    long long nonFinite = 0;  // NaN or infinite values (left out of min and max)
};

// Cancelled when `progress` asks to stop (asked every few rows; every worker stops).
RowRange rowRange(long long rows, long long cols, const RowDecoder& decode, int threads,
                  const Progress& progress = {});

struct RowComparisonOptions {
    int threads = 1;
    bool histograms = true;
    HistogramSpec weights, error;  // resolved (hi > lo) when histograms are wanted
};

// Fills elements, zeros, originalZeros, sparsity, mse, sqnrDb, maxAbsError, sumSquares,
// sumSquaredError, minValue, maxValue and the three histograms; levels -1 (not counted).
TensorStats compareRows(long long rows, long long cols, const RowDecoder& original,
                        const RowDecoder& compressed, const RowComparisonOptions& options,
                        const Progress& progress = {});

// sparsity, mse and sqnrDb from the counts and sums.
void finishErrorFigures(TensorStats& t);

// Adds a tensor's counts, sums, extremes, histograms (where it has them) and encoded sizes
// to a total; `first` starts it (extremes and histograms then come from `s`). The derived
// figures (sparsity, mse, sqnrDb, ratio) are left to the caller.
void addTensorStats(TensorStats& total, const TensorStats& s, bool first);

// Adds a tensor's figures from compareRows (with its size) to a total; `first` starts it.
void addComparedStats(TensorStats& total, const TensorStats& s, bool first);

}  // namespace cwb
