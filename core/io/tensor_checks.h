// Checks readers apply to weights before a model is handed out: a NaN or Inf in a weight
// would otherwise spread silently through every prediction.
#pragma once

#include <cstdint>
#include <string>

#include "core/model/tensor.h"

namespace cwb {

// Index of the first NaN or Inf in a floating-point tensor, or -1 (always -1 for integers).
std::int64_t firstNonFinite(const Tensor& tensor);

// Throws cwb::Error "<where> contains NaN at index i ..." when the tensor is not finite.
void requireFinite(const Tensor& tensor, const std::string& where);

// Product of the dimensions, or -1 when a dimension is negative or the product would
// exceed `limit` (overflow-safe).
std::int64_t checkedElements(const Shape& shape, std::int64_t limit);

}  // namespace cwb
