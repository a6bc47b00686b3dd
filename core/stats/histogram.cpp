// Histogram counting and merging (see histogram.h).
#include "core/stats/histogram.h"

#include <cmath>

#include "core/error.h"

namespace cwb {

Histogram::Histogram(const HistogramSpec& resolved)
    : spec(resolved), counts(resolved.bins > 0 ? resolved.bins : 0, 0) {}

std::uint64_t Histogram::total() const {
    std::uint64_t n = underflow + overflow;
    for (auto c : counts) n += c;
    return n;
}

int Histogram::binOf(float value) const {
    return histogramSlot(value, static_cast<float>(spec.lo), static_cast<float>(spec.hi),
                         static_cast<float>(spec.bins / (spec.hi - spec.lo)), spec.bins) -
           1;
}

void Histogram::add(float value) {
    const int b = binOf(value);
    if (b < 0)
        ++underflow;
    else if (b >= spec.bins)
        ++overflow;
    else
        ++counts[b];
}

void Histogram::merge(const Histogram& other) {
    if (!(other.spec == spec))
        throw Error(
            "cannot merge histograms with different bin edges; use one HistogramSpec for both");
    for (std::size_t i = 0; i < counts.size(); ++i) counts[i] += other.counts[i];
    underflow += other.underflow;
    overflow += other.overflow;
}

}  // namespace cwb
