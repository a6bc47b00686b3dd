// Picks what the plots show out of a CompressionResult: the histograms of one layer or of
// the whole model, as the core computed them (no binning happens here), and the level
// values of the quantization grid when they are few.
#pragma once

#include <QString>
#include <vector>

#include "core/compress/compress_model.h"
#include "ui/plots/weight_histogram_plot.h"

namespace cwb::ui {

// The statistics for `layer` ("" = all layers), or null when the name is not a compressed
// or compressible layer of the result.
const TensorStats* statsFor(const CompressionResult& result, const QString& layer);

// Bin edges and counts of a core histogram, as doubles for QCustomPlot.
std::vector<double> edgesOf(const Histogram& h);
std::vector<double> countsOf(const Histogram& h);

// The histogram view of `layer`; levels are filled when every reported kernel has the same
// single per-tensor grid (always so with the uniform step alpha) and there are at most
// WeightHistogramPlot::kMaxLevelLines of them.
HistogramView histogramViewFor(const CompressionResult& result, const QString& layer);

// "SQNR 31.2 dB, max |e| 0.0049" for the error plot's title.
QString errorSummary(const TensorStats& stats);

}  // namespace cwb::ui
