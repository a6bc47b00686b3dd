// Matrix-vector products for a single token (generation), AVX2 (internal to core/quant): a
// few weight rows at a time against one activation row, sharing each activation block's
// load, scale and sums between the rows. Each row's value is computed by the same operations
// in the same order whichever rows share its pass, so the result does not depend on how rows
// are split between threads; it equals the reference dot product within float rounding.
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/model/dtype.h"

namespace cwb::quant::detail {

// Whether gemvAvx2 has a kernel for weights of `type`.
bool hasGemvAvx2(DType type);
// y[r - rowBegin] = dot(row r, activation row) for r in [rowBegin, rowEnd); rows `stride`
// bytes apart from w, n values each; the activations in activationType(type).
void gemvAvx2(DType type, const std::byte* w, std::size_t stride, std::int64_t rowBegin,
              std::int64_t rowEnd, const std::byte* activations, std::int64_t n, float* y);

}  // namespace cwb::quant::detail
