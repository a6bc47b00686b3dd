// The AVX2 int8 product for narrow weights (internal to core/infer/int8): vpmaddubsw
// multiplies A's bytes (0..255) with B's (signed) and adds neighbours into int16 lanes, which
// cannot saturate when every |B| <= kBytePairLimit (2 x 255 x 64 < 32768); vpmaddwd with ones
// then adds each column's pairs into its int32 lane. The packed layout of B (4 bytes of k per
// column, int8_gemm.h) puts one column in each int32 lane, 8 columns per register, in order,
// so the integers equal the reference's and the requantization runs in registers.
#pragma once

#include <cstdint>

#include "core/infer/int8/int8_gemm.h"

namespace cwb::int8::detail {

inline constexpr int kBytePairLimit = 64;

// True when b's values allow the byte-pair kernel.
inline bool bytePairsExact(const PackedB& b) { return b.maxAbs <= kBytePairLimit; }

// Rows [0, m) of A times B (bytePairsExact(b)): into c (row stride ldc) when q is null, else
// requantized into q->out, row i taking q's row terms at i.
void bytePairsAvx2(const std::uint8_t* a, int m, int lda, const PackedB& b, std::int32_t* c,
                   int ldc, const Requant* q);

}  // namespace cwb::int8::detail
