// Matrix-vector products for a single token (generation), AVX2 (internal to core/quant): a
// few weight rows at a time against one activation row, sharing each activation block's
// load, scale and sums between the rows. Each row's value is computed by the same operations
// in the same order whichever rows share its pass, so the result does not depend on how rows
// are split between threads; it equals the reference dot product within float rounding.
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/model/dtype.h"
#include "core/quant/simd_target.h"

namespace cwb::quant::detail {

// Whether gemvAvx2 has a kernel for weights of `type`.
bool hasGemvAvx2(DType type);
// y[r - rowBegin] = dot(row r, activation row) for r in [rowBegin, rowEnd); rows `stride`
// bytes apart from w, n values each; the activations in activationType(type).
void gemvAvx2(DType type, const std::byte* w, std::size_t stride, std::int64_t rowBegin,
              std::int64_t rowEnd, const std::byte* activations, std::int64_t n, float* y);

// A block format's rows interleaved by eight (quant::interleaveRows): block i of a group of
// eight rows holds the rows' fp16 fields side by side (`halves` of them at the block's start:
// d for Q4_0; d, dmin for Q4_K), then the rest of the block in runs of 32 bytes, run j
// holding bytes 4j..4j+3 of it from each row (row k at 4k). blockBytes 0: no such layout.
struct RowsX8 {
    std::size_t blockBytes = 0;  // of one row's block
    int halves = 0;
};
RowsX8 rowsX8(DType type);

// The interleaved kernels and the float rows' dot products read weights once, as one stream:
// the hardware's prefetch alone left a quarter of the read bandwidth unused on a 2-core Xeon
// VM. They ask for the bytes this far ahead of those they multiply, a step's `bytes` at a time.
constexpr std::size_t kPrefetchAhead = 4096;
inline void prefetchStream(const void* at, std::size_t bytes) {
    const char* p = static_cast<const char*>(at) + kPrefetchAhead;
    for (std::size_t b = 0; b < bytes; b += 64) _mm_prefetch(p + b, _MM_HINT_T0);
}

// Bytes of one block of a group of eight interleaved Q4_0 rows: the eight fp16 scales, then
// the codes.
constexpr std::size_t kQ4_0x8BlockBytes = 8 * 18;
// y[8 g + k] = dot(row k of group firstGroup + g, activation row) for g < groups, the
// weights w in interleaveRows' layout with n values a row, the activations in Q8_0.
void gemvQ4_0x8Avx2(const std::byte* w, std::int64_t firstGroup, std::int64_t groups,
                    const std::byte* activations, std::int64_t n, float* y);
// The same for Q4_K rows (n a multiple of 256) against Q8_K activations.
constexpr std::size_t kQ4_Kx8BlockBytes = 8 * 144;
void gemvQ4_Kx8Avx2(const std::byte* w, std::int64_t firstGroup, std::int64_t groups,
                    const std::byte* activations, std::int64_t n, float* y);
// The first `groups` groups of such weights (layout l, `blocks` blocks a row) back in plain
// rows, back to back in out.
void plainGroupsX8Avx2(RowsX8 l, const std::byte* w, std::int64_t groups, std::int64_t blocks,
                       std::byte* out);

}  // namespace cwb::quant::detail
