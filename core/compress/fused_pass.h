// The fused pass: for every weight of every tensor, in one read, apply the mask and the
// quantizer, write the result, and accumulate counts, error sums, histograms and the codes
// used. Tensors are cut into fixed chunks (independent of the thread count); integer counts
// merge exactly and float sums are per chunk in a fixed lane order, merged in chunk order,
// so results are bitwise identical for any number of threads.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "core/compress/unit_quantizers.h"
#include "core/compress/weight_view.h"
#include "core/stats/histogram.h"
#include "core/util/progress.h"

namespace cwb {

enum class QuantKind { None, Uniform, Affine };

struct FusedJob {
    MatrixView in;
    float* out = nullptr;  // nullptr: statistics only (the tensor is left as it is)
    KeepRule keep;
    QuantKind quant = QuantKind::None;
    float alpha = 0.f;                      // Uniform
    const UnitQuantizers* units = nullptr;  // Affine
    // Codes are counted (for the number of levels) when codeSpan > 0: code - codeBase
    // indexes codeSpan counters. Uniform codes are round(W / alpha), Affine codes are
    // code - zeroPoint, pruned weights count as code 0.
    std::int64_t codeBase = 0;
    std::int64_t codeSpan = 0;
    // false: the pass only writes values and sums; the caller fills the histograms and
    // code counts another way (see profile_counts.h).
    bool countInPass = true;
};

// The most codes a job may count one by one (larger spans are not counted).
inline constexpr std::int64_t kMaxCountedCodes = 1 << 16;

struct FusedResult {
    std::int64_t zeros = 0, originalZeros = 0;
    double sumSquares = 0.0, sumSquaredError = 0.0, maxAbsError = 0.0;
    Histogram original, compressed, error;  // empty when histograms are off
    std::vector<std::uint64_t> codeCounts;  // codeSpan entries when counted
};

struct FusedOptions {
    bool histograms = true;
    HistogramSpec weights, error;  // resolved (hi > lo)
    int threads = 1;
    long long chunk = 1 << 15;  // elements; part of the result's definition (sum order)
};

std::vector<FusedResult> runFusedPass(const std::vector<FusedJob>& jobs,
                                      const FusedOptions& options, const Progress& progress);

// ---- shared by every backend's pass (the CPU's above, core/backend/cuda) ----

// Throws cwb::Error where the options or a job cannot run.
void checkFusedJobs(const std::vector<FusedJob>& jobs, const FusedOptions& options);
// Per-channel or per-group steps: each element takes its unit's step and zero point.
bool fusedPerUnit(const FusedJob& job);
// The one step of the whole tensor when codes are counted (every compressed value is
// code * step, so the compressed histogram follows from the code counts), else 0.
float fusedSingleStep(const FusedJob& job);
// Adds code * step for every counted code to `compressed` (pruned weights: code 0, value 0).
void addCodeValues(Histogram& compressed, const std::vector<std::uint64_t>& codeCounts,
                   std::int64_t codeBase, float step);

}  // namespace cwb
