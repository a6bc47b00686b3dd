// Pruning masks that look at more than one weight: target sparsity (per tensor or global),
// structured pruning of whole output channels, and N:M. Each returns one byte per weight,
// 1 = kept. Ties are broken by position (earlier tensor, then lower index, is pruned
// first; for N:M the lower index is kept) so the counts are exact and reproducible.
#pragma once

#include <cstdint>
#include <vector>

#include "core/compress/weight_view.h"

namespace cwb {

using KeepMask = std::vector<std::uint8_t>;

// The number of weights a sparsity fraction prunes: round(sparsity * count), halves away from zero.
long long prunedCount(double sparsity, long long count);

// Prunes exactly prunedCount(sparsity, total) weights of smallest |W| over all `tensors`
// together (one tensor = per-layer target sparsity). Returns one mask per tensor.
std::vector<KeepMask> magnitudeMasks(const std::vector<MatrixView>& tensors, double sparsity);

// Zeroes the prunedCount(sparsity, cols) output channels (columns) of smallest L1 or L2 norm.
KeepMask structuredMask(const MatrixView& w, double sparsity, bool l2);

// In every run of m consecutive rows of each column keeps the n largest |W| (a shorter
// last run keeps min(n, its length)).
KeepMask nmMask(const MatrixView& w, int n, int m);

}  // namespace cwb
