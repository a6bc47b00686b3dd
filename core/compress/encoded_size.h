// The size of a compressed tensor under a real encoding: packed codes plus steps, and for
// sparse tensors either a bitmask or CSR (rows = output channels, columns = the reduction
// axis), whichever is smaller, or plain dense codes when that is smaller still.
#pragma once

#include <cstdint>
#include <string>

#include "core/stats/weight_stats.h"

namespace cwb {

struct EncodingInput {
    std::int64_t elements = 0;
    std::int64_t nonzeros = 0;
    std::int64_t outputs = 0;     // CSR rows (output channels)
    std::int64_t reduction = 0;   // CSR columns (K)
    int codeBits = 32;            // bits per stored value (32 = float32, not quantized)
    std::int64_t scaleBytes = 0;  // steps, zero points, code offset
    std::string codeText;         // "4-bit codes + 10 float32 steps" / "float32 values"
};

// Bytes of a CSR column index for `reduction` columns: 1, 2 or 4.
int csrIndexBytes(std::int64_t reduction);

EncodedSize encodeSize(const EncodingInput& in);

}  // namespace cwb
