// A sweep: one compression parameter stepped over a list of values, each step compressed
// and measured through one Measurer (warmed once, before the first row), so an accuracy
// and latency curve fills in row by row. The window's Sweep button and `cwb sweep` both
// call sweep().
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "core/measure/measurer.h"

namespace cwb {

// The parameters a sweep steps (the seed article's two sliders).
enum class SweepParameter { Alpha, Rho };

std::string sweepParameterName(SweepParameter p);  // "alpha", "rho"
// Throws cwb::Error "unknown sweep parameter 'x'; expected alpha or rho".
SweepParameter parseSweepParameter(std::string_view text);

// The parameter's value in a plan's defaults, and setting it there (nothing else changes).
double sweepValue(const CompressionPlan& plan, SweepParameter p);
void setSweepValue(CompressionPlan& plan, SweepParameter p, double value);

// The plan a sweep measures at `value`: alpha is the uniform step, so the bit width (and
// what needs one) is cleared; rho is a magnitude threshold unless the base prunes by the
// textbook rule.
CompressionPlan sweepPlan(const CompressionPlan& base, SweepParameter p, double value);

// `count` values from lo to hi (both included), evenly spaced on a log scale and rounded
// to 3 significant digits; empty unless 0 < lo < hi and count > 0.
std::vector<double> logSpaced(double lo, double hi, int count);
// `count` values from `from` to `to` (both included), evenly spaced; count 1 gives `from`.
std::vector<double> linearSpaced(double from, double to, int count);

struct SweepOptions {
    SweepParameter parameter = SweepParameter::Alpha;
    std::vector<double> values;
    KernelChoice kernels = KernelChoice::Float;
    int limit = 0;  // samples per row; 0 = the whole data set
};

struct SweepRow {
    double value = 0.0;
    Measurement measurement;
};

// Measures every value in order. `onRow` (may be empty) receives each row as it is done;
// `progress` gets (samples done, samples total) over all rows and cancels (Cancelled) when
// it returns false, within a row's compression or evaluation.
std::vector<SweepRow> sweep(const Measurer& measurer, const CompressionPlan& base,
                            const SweepOptions& options, const Progress& progress = {},
                            const std::function<void(const SweepRow& row, int index)>& onRow = {});

}  // namespace cwb
