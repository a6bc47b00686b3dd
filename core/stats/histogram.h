// Histograms with integer counts over explicit, shareable bin edges: two histograms with
// the same HistogramSpec overlay bin for bin, and merging partial histograms is exact
// (so results do not depend on how the work was split between threads).
#pragma once

#include <cstdint>
#include <vector>

namespace cwb {

// The one binning rule every producer (fused kernels, reference code, tests) uses, in float32:
// 0 for value < lo, bins + 1 for value > hi or NaN, else 1 + min(int((value - lo) * scale), bins -
// 1) with scale = float(bins / (hi - lo)). Written branch-free so that loops over it vectorize.
inline int histogramSlot(float value, float lo, float hi, float scale, int bins) {
    float x = (value - lo) * scale;
    x = x > 0.f ? x : 0.f;  // also maps NaN to 0, so the conversion below is defined
    const float top = static_cast<float>(bins - 1);
    x = x < top ? x : top;
    const int inside = 1 + static_cast<int>(x);
    return value < lo ? 0 : (value <= hi ? inside : bins + 1);
}

// Bins of equal width over [lo, hi], the last bin closed. hi <= lo means "choose the range
// automatically". Values are binned in float32 arithmetic (see histogramBin).
struct HistogramSpec {
    int bins = 128;
    double lo = 0.0, hi = 0.0;

    bool automatic() const { return !(hi > lo); }
    bool operator==(const HistogramSpec&) const = default;
};

struct Histogram {
    HistogramSpec spec;                 // always resolved (hi > lo) in results
    std::vector<std::uint64_t> counts;  // spec.bins entries
    std::uint64_t underflow = 0;        // values < lo
    std::uint64_t overflow = 0;         // values > hi (NaN is counted here too)

    Histogram() = default;
    explicit Histogram(const HistogramSpec& resolved);

    double binWidth() const { return (spec.hi - spec.lo) / spec.bins; }
    double edge(int i) const { return spec.lo + (spec.hi - spec.lo) * i / spec.bins; }  // 0..bins
    double center(int i) const { return 0.5 * (edge(i) + edge(i + 1)); }
    std::uint64_t total() const;
    // The bin of a value, or -1 below, bins above (see histogramBin).
    int binOf(float value) const;

    void add(float value);
    // Adds another histogram's counts; throws cwb::Error if the specs differ.
    void merge(const Histogram& other);
};

}  // namespace cwb
