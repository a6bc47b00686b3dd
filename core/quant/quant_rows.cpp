// The row API over the traits table (see quant_rows.h): float weight rows beside the block
// formats, kernels resolved once per call, and the packed matrix product on a worker pool.
#include "core/quant/quant_rows.h"

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstring>
#include <limits>

#include "core/error.h"
#include "core/quant/block_formats.h"
#include "core/quant/block_layouts.h"
#include "core/quant/fp16.h"
#include "core/quant/gemv_kernels.h"
#include "core/quant/kernels.h"
#include "core/quant/tile_kernels.h"
#include "core/util/worker_pool.h"

namespace cwb::quant {
namespace {

using namespace detail;

bool isFloatType(DType t) { return t == DType::F32 || t == DType::F16 || t == DType::BF16; }

VecDotFn floatDot(DType type, Isa isa) {
    static const std::array<std::array<VecDotFn, kIsaCount>, 3> kDots{{
        {dotF32Ref, dotF32Avx2, dotF32Avx512},
        {dotF16Ref, dotF16Avx2, dotF16Avx512},
        {dotBF16Ref, dotBF16Avx2, dotBF16Avx512},
    }};
    const int row = type == DType::F32 ? 0 : type == DType::F16 ? 1 : 2;
    return kDots[row][static_cast<int>(isa)];
}

// The dot product of a weight dtype for the active kernel family.
VecDotFn dotFor(DType weightType) {
    const Isa isa = activeIsa();
    if (isFloatType(weightType)) return floatDot(weightType, isa);
    if (!dtypeIsBlock(weightType))
        throw Error(dtypeName(weightType) +
                    " weights cannot be multiplied; expected F32, F16, BF16 or a block format");
    const VecDotFn f = blockFormat(weightType).vecDot[static_cast<int>(isa)];
    if (!f)
        throw Error(dtypeName(weightType) +
                    " is an activation format with no weight dot product; quantize the weights to "
                    "another format");
    return f;
}

void checkRow(DType type, std::int64_t n) {
    const auto block = static_cast<std::int64_t>(dtypeBlockSize(type));
    if (n < 0 || n % block != 0)
        throw Error("a row of " + std::to_string(n) + " values does not fill whole " +
                    dtypeName(type) + " blocks of " + std::to_string(block) +
                    "; use a row length that is a multiple of it");
}

// The batched path over tiles of 8 (AVX2) or 16 rows (AVX-512), 6 for float rows; false
// where it has no kernel.
bool batchedProduct(const PackedMatrix& w, std::size_t stride, const ActivationRows& x, float* y,
                    int threads, std::int64_t ldy) {
    const bool floats = isFloatType(w.type);
    const bool wide = activeIsa() == Isa::Avx512 && !floats;
    const long long kTileRows = floats ? 6 : wide ? 16 : 8;
    if (!floats && !detail::hasTiles(w.type)) return false;
    std::vector<std::int32_t> sums;  // Q8_0 activations: sums of each block's codes
    if (x.type == DType::Q8_0) {
        const std::int64_t blocks = x.cols / 32;
        sums.resize(static_cast<std::size_t>(x.tokens * blocks));
        for (std::int64_t t = 0; t < x.tokens; ++t)
            for (std::int64_t b = 0; b < blocks; ++b) {
                const auto* codes = reinterpret_cast<const std::int8_t*>(
                    x.row(t) + b * sizeof(BlockQ8_0) + offsetof(BlockQ8_0, qs));
                int s = 0;
                for (int j = 0; j < 32; ++j) s += codes[j];
                sums[static_cast<std::size_t>(t * blocks + b)] = s;
            }
    }
    detail::TileJob job;
    job.weights = w.data;
    job.stride = stride;
    job.cols = w.cols;
    job.activations = x.bytes.data();
    job.activationStride = x.rowBytes;
    job.tokens = x.tokens;
    job.blockSums = sums.empty() ? nullptr : sums.data();
    job.y = y;
    job.ldy = ldy;
    auto body = [&](long long begin, long long end, int) {
        detail::TileJob part = job;
        part.rowBegin = begin * kTileRows;
        part.rowEnd = std::min<long long>(end * kTileRows, w.rows);
        if (floats)
            detail::floatTilesAvx2(w.type, part);
        else if (wide)
            detail::tileMatmulAvx512(w.type, part);
        else if (wide)
            detail::tileMatmulAvx512(w.type, part);
        else
            detail::tileMatmulAvx2(w.type, part);
    };
    const long long tiles = (w.rows + kTileRows - 1) / kTileRows;
    if (threads == 1)
        body(0, tiles, 0);
    else
        WorkerPool::shared(threads).run(tiles, body);
    return true;
}

}  // namespace

bool isWeightType(DType type) {
    if (isFloatType(type)) return true;
    return dtypeIsBlock(type) && blockFormat(type).vecDot[0] != nullptr;
}

std::size_t rowBytes(DType type, std::int64_t n) {
    checkRow(type, n);
    return dtypeStorageBytes(type, static_cast<std::uint64_t>(n));
}

void dequantizeRow(DType type, const std::byte* row, float* out, std::int64_t n) {
    checkRow(type, n);
    switch (type) {
        case DType::F32:
            if (n) std::memcpy(out, row, static_cast<std::size_t>(n) * 4);
            return;
        case DType::F16:
        case DType::BF16:
            if (activeIsa() != Isa::Scalar) {
                halfRowToFloatAvx2(type == DType::BF16, row, out, n);
                return;
            }
            for (std::int64_t i = 0; i < n; ++i) {
                std::uint16_t h;
                std::memcpy(&h, row + 2 * i, 2);
                out[i] = type == DType::F16 ? halfToFloat(h) : bf16ToFloat(h);
            }
            return;
        default:
            blockFormat(type).toFloat(row, out, n);
    }
}

void quantizeRow(DType type, const float* in, std::byte* out, std::int64_t n) {
    checkRow(type, n);
    switch (type) {
        case DType::F32:
            if (n) std::memcpy(out, in, static_cast<std::size_t>(n) * 4);
            return;
        case DType::F16:
        case DType::BF16:
            for (std::int64_t i = 0; i < n; ++i) {
                const std::uint16_t h =
                    type == DType::F16 ? floatToHalf(in[i]) : floatToBf16(in[i]);
                std::memcpy(out + 2 * i, &h, 2);
            }
            return;
        default:
            blockFormat(type).fromFloat[static_cast<int>(activeIsa())](in, out, n);
    }
}

double quantizationError(DType type, const float* in, std::int64_t n) {
    checkRow(type, n);
    if (!dtypeIsBlock(type))
        throw Error(dtypeName(type) + " is not a block format; expected Q4_0 ... Q6_K");
    return blockFormat(type).squaredError[static_cast<int>(activeIsa())](in, n);
}

double sumOfSquares(const float* in, std::int64_t n, float* min, float* max) {
    float lo = std::numeric_limits<float>::infinity(), hi = -lo;
    double sum = 0.0;
    if (activeIsa() != Isa::Scalar) {
        sum = sumOfSquaresAvx2(in, n, lo, hi);
    } else {
        for (std::int64_t i = 0; i < n; ++i) {
            sum += double(in[i]) * in[i];
            lo = std::min(lo, in[i]);
            hi = std::max(hi, in[i]);
        }
    }
    if (min) *min = lo;
    if (max) *max = hi;
    return sum;
}

DType activationType(DType weightType) {
    if (isFloatType(weightType)) return DType::F32;
    return blockFormat(weightType).dotType;
}

void quantizeActivationRow(DType weightType, const float* in, std::byte* out, std::int64_t n) {
    const DType act = activationType(weightType);
    checkRow(act, n);
    if (act == DType::F32) {
        if (n) std::memcpy(out, in, static_cast<std::size_t>(n) * 4);
        return;
    }
    blockFormat(act).fromFloat[static_cast<int>(activeIsa())](in, out, n);
}

float vecDot(DType weightType, const std::byte* weightRow, const std::byte* activationRow,
             std::int64_t n) {
    checkRow(weightType, n);
    return dotFor(weightType)(weightRow, activationRow, n);
}

ActivationRows quantizeActivations(DType weightType, const float* x, std::int64_t tokens,
                                   std::int64_t cols, int threads) {
    ActivationRows rows;
    rows.type = activationType(weightType);
    rows.tokens = tokens;
    rows.cols = cols;
    rows.rowBytes = rowBytes(rows.type, cols);
    rows.bytes.resize(rows.rowBytes * static_cast<std::size_t>(std::max<std::int64_t>(tokens, 0)));
    auto body = [&](long long begin, long long end, int) {
        for (long long t = begin; t < end; ++t)
            quantizeActivationRow(weightType, x + t * cols, rows.bytes.data() + t * rows.rowBytes,
                                  cols);
    };
    if (threads == 1 || tokens < 2)
        body(0, tokens, 0);
    else
        WorkerPool::shared(threads).run(tokens, body);
    return rows;
}

void matmulPacked(const PackedMatrix& w, const ActivationRows& x, float* y, int threads,
                  std::int64_t ldy) {
    const std::size_t stride = w.rowStride ? w.rowStride : rowBytes(w.type, w.cols);
    if (x.type != activationType(w.type) || x.cols != w.cols)
        throw Error("activations (" + dtypeName(x.type) + ", " + std::to_string(x.cols) +
                    " values) do not fit " + dtypeName(w.type) + " weights of " +
                    std::to_string(w.cols) +
                    " columns; quantize them with quantizeActivations for this weight dtype");
    checkRow(w.type, w.cols);
    if (ldy == 0) ldy = w.rows;
    if (x.tokens >= kBatchTokens && activeIsa() != Isa::Scalar &&
        batchedProduct(w, stride, x, y, threads, ldy))
        return;
    if (activeIsa() == Isa::Avx2 && hasGemvAvx2(w.type)) {
        auto gemv = [&](long long begin, long long end, int) {
            for (std::int64_t t = 0; t < x.tokens; ++t)
                gemvAvx2(w.type, w.data, stride, begin, end, x.row(t), w.cols, y + t * ldy + begin);
        };
        if (threads == 1)
            gemv(0, w.rows, 0);
        else
            WorkerPool::shared(threads).run(w.rows, gemv);
        return;
    }
    const VecDotFn dot = dotFor(w.type);
    // A tile of weight rows stays in the first-level cache while every token passes over it.
    constexpr long long kRowTile = 16;
    auto body = [&](long long begin, long long end, int) {
        for (long long r0 = begin; r0 < end; r0 += kRowTile) {
            const long long r1 = std::min(end, r0 + kRowTile);
            for (std::int64_t t = 0; t < x.tokens; ++t) {
                const std::byte* a = x.row(t);
                float* out = y + t * ldy;
                for (long long r = r0; r < r1; ++r) out[r] = dot(w.data + r * stride, a, w.cols);
            }
        }
    };
    if (threads == 1)
        body(0, w.rows, 0);
    else
        WorkerPool::shared(threads).run(w.rows, body);
}

void matmulPacked(const PackedMatrix& w, const float* x, std::int64_t tokens, float* y, int threads,
                  std::int64_t ldy) {
    matmulPacked(w, quantizeActivations(w.type, x, tokens, w.cols, threads), y, threads, ldy);
}

}  // namespace cwb::quant
