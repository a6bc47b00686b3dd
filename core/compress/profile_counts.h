// Histograms and code counts of a compression whose output depends on each weight's value
// alone (threshold or textbook mask, uniform step or one k-bit step per tensor), taken from
// a profile's sorted distinct values and their counts instead of counting weight by weight.
// Every function involved (code, value, error, histogram slot) is monotone in the weight on
// the kept and pruned ranges, so each bin is a contiguous run found by binary search: the
// counts are exactly those of the per-weight pass, in O(bins * codes * log n).
#pragma once

#include "core/compress/fused_pass.h"
#include "core/compress/weight_profile.h"

namespace cwb {

// True when countFromProfile can stand in for the pass's counting for this job, and is
// expected to be cheaper (very fine steps make many short runs; then the pass counts).
bool profileCanCount(const FusedJob& job, const TensorProfile* profile,
                     const FusedOptions& options);

// Fills result.original/compressed/error (when histograms) and result.codeCounts.
void countFromProfile(const FusedJob& job, const TensorProfile& profile,
                      const FusedOptions& options, FusedResult& result);

}  // namespace cwb
