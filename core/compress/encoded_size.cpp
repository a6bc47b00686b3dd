// Encoded sizes (see encoded_size.h).
#include "core/compress/encoded_size.h"

namespace cwb {
namespace {

std::int64_t packedBytes(std::int64_t values, int bits) { return (values * bits + 7) / 8; }

}  // namespace

int csrIndexBytes(std::int64_t reduction) {
    if (reduction <= 256) return 1;
    if (reduction <= 65536) return 2;
    return 4;
}

EncodedSize encodeSize(const EncodingInput& in) {
    EncodedSize out;
    out.codeBits = in.codeBits;
    out.scaleBytes = in.scaleBytes;
    out.float32Bytes = in.elements * 4;

    const std::int64_t denseCodes = packedBytes(in.elements, in.codeBits);
    const std::int64_t sparseCodes = packedBytes(in.nonzeros, in.codeBits);
    const std::int64_t bitmask = (in.elements + 7) / 8;
    const int indexBytes = csrIndexBytes(in.reduction);
    const std::int64_t csr = (in.outputs + 1) * 4 + in.nonzeros * indexBytes;

    out.sparse = SparseFormat::Dense;
    out.codeBytes = denseCodes;
    out.indexBytes = 0;
    if (bitmask + sparseCodes < out.codeBytes + out.indexBytes) {
        out.sparse = SparseFormat::Bitmask;
        out.codeBytes = sparseCodes;
        out.indexBytes = bitmask;
    }
    if (csr + sparseCodes < out.codeBytes + out.indexBytes) {
        out.sparse = SparseFormat::Csr;
        out.codeBytes = sparseCodes;
        out.indexBytes = csr;
    }
    out.bytes = out.codeBytes + out.scaleBytes + out.indexBytes;
    out.ratio = out.bytes > 0
                    ? static_cast<double>(out.float32Bytes) / static_cast<double>(out.bytes)
                    : 1.0;
    out.description = in.codeText;
    switch (out.sparse) {
        case SparseFormat::Dense:
            out.description += ", dense";
            break;
        case SparseFormat::Bitmask:
            out.description += ", bitmask of zeros";
            break;
        case SparseFormat::Csr:
            out.description +=
                ", CSR (int32 row pointers, " + std::to_string(8 * indexBytes) + "-bit columns)";
            break;
    }
    return out;
}

}  // namespace cwb
