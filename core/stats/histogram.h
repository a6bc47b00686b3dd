// Histograms with integer counts over explicit, shareable bin edges: two histograms with
// the same HistogramSpec overlay bin for bin, and merging partial histograms is exact
// (so results do not depend on how the work was split between threads).
#pragma once

#include <cstdint>
#include <vector>

namespace cwb {

// Bins of equal width over [lo, hi). hi <= lo means "choose the range automatically".
struct HistogramSpec {
    int bins = 128;
    double lo = 0.0, hi = 0.0;

    bool automatic() const { return !(hi > lo); }
    bool operator==(const HistogramSpec&) const = default;
};

struct Histogram {
    HistogramSpec spec;                  // always resolved (hi > lo) in results
    std::vector<std::uint64_t> counts;   // spec.bins entries
    std::uint64_t underflow = 0;         // values < lo
    std::uint64_t overflow = 0;          // values >= hi (NaN is counted here too)

    Histogram() = default;
    explicit Histogram(const HistogramSpec& resolved);

    double binWidth() const { return (spec.hi - spec.lo) / spec.bins; }
    double edge(int i) const { return spec.lo + (spec.hi - spec.lo) * i / spec.bins; }  // 0..bins
    double center(int i) const { return 0.5 * (edge(i) + edge(i + 1)); }
    std::uint64_t total() const;
    // The bin of a value, or -1 below, bins above: the one rule every producer uses.
    int binOf(float value) const;

    void add(float value);
    // Adds another histogram's counts; throws cwb::Error if the specs differ.
    void merge(const Histogram& other);
};

}  // namespace cwb
