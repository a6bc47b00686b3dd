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

// Bytes of one block of a group of eight interleaved Q4_0 rows (interleaveQ4_0's layout):
// the eight fp16 scales, then the codes.
constexpr std::size_t kQ4_0x8BlockBytes = 8 * 18;
// y[8 g + k] = dot(row k of group firstGroup + g, activation row) for g < groups, the
// weights w in interleaveQ4_0's layout with n values a row, the activations in Q8_0.
void gemvQ4_0x8Avx2(const std::byte* w, std::int64_t firstGroup, std::int64_t groups,
                    const std::byte* activations, std::int64_t n, float* y);
// The first `groups` groups of such weights back in plain rows, back to back in out.
void plainGroupsQ4_0x8Avx2(const std::byte* w, std::int64_t groups, std::int64_t blocks,
                           std::byte* out);

}  // namespace cwb::quant::detail
