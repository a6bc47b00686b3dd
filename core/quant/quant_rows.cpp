// The row API over the traits table (see quant_rows.h): float weight rows beside the block
// formats, kernels resolved once per call, and the packed matrix product on a worker pool.
#include "core/quant/quant_rows.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <cstddef>
#include <cstring>
#include <functional>
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

// Runs body over [0, count) in chunks of `chunk` that the threads take as they come free.
// Every row of a product is computed the same way wherever it falls, so any split gives the
// same numbers; taking chunks (rather than one fixed slice each) keeps a thread that another
// process slowed from holding up the rest at the join, which generation meets some 90 times
// a token.
void splitChunks(std::int64_t count, std::int64_t chunk, int threads,
                 const std::function<void(std::int64_t, std::int64_t)>& body) {
    const std::int64_t chunks = (count + chunk - 1) / chunk;
    if (threads == 1 || chunks == 1) {
        body(0, count);
        return;
    }
    std::atomic<std::int64_t> next{0};
    WorkerPool& pool = WorkerPool::shared(threads);
    pool.run(std::min<std::int64_t>(pool.threads(), chunks), [&](long long, long long, int) {
        for (std::int64_t c; (c = next.fetch_add(1, std::memory_order_relaxed)) < chunks;)
            body(c * chunk, std::min(count, (c + 1) * chunk));
    });
}

// Rows [begin, end) of an interleaved matrix in the plain layout, in a buffer of the calling
// thread's that lasts until its next call.
const std::byte* plainRowsOf(const PackedMatrix& w, std::int64_t begin, std::int64_t end) {
    thread_local std::vector<std::byte> buffer;
    buffer.resize(static_cast<std::size_t>(end - begin) * rowBytes(w.type, w.cols));
    plainRows(w.type, w.data, w.rows, w.cols, begin, end, buffer.data());
    return buffer.data();
}

// Float activations as floatTilesAvx2 takes them, the groups of tokens shared out between
// the threads, once for every matrix of a product group. Kept from call to call: a fresh
// buffer of this size is a fresh mapping whose pages fault in on every product.
const float* packFloatTokens(const ActivationRows& x, int threads) {
    thread_local std::vector<float> packed;
    const std::int64_t groups = (x.tokens + kFloatGroupTokens - 1) / kFloatGroupTokens;
    packed.resize(static_cast<std::size_t>(groups * x.cols * kFloatGroupTokens));
    detail::TileJob job;
    job.cols = x.cols;
    job.activations = x.bytes.data();
    job.activationStride = x.rowBytes;
    job.tokens = x.tokens;
    float* out = packed.data();  // a worker's `packed` would be its own
    splitChunks(groups, 1, threads, [&](std::int64_t begin, std::int64_t end) {
        detail::packTokensAvx2(job, begin, end, out);
    });
    return out;
}

// The batched path over tiles of 8 (AVX2) or 16 rows (AVX-512), for float rows 6 (AVX2) or
// 12 (AVX-512) against their activations from packFloatTokens, in chunks of 48 rows either
// way; false where it has no kernel.
bool batchedProduct(const PackedMatrix& w, std::size_t stride, const ActivationRows& x, float* y,
                    int threads, std::int64_t ldy, const float* packedTokens) {
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
    job.packedTokens = packedTokens;
    // Chunks of whole tiles: 48 float rows, 64 or 128 block rows.
    splitChunks(w.rows, 8 * kTileRows, threads, [&](std::int64_t begin, std::int64_t end) {
        detail::TileJob part = job;
        part.rowBegin = begin;
        part.rowEnd = end;
        if (w.interleaved) {
            part.weights = plainRowsOf(w, begin, end);
            part.rowBegin = 0;
            part.rowEnd = end - begin;
            part.y = y + begin;
        }
        if (floats && activeIsa() == Isa::Avx512)
            detail::floatTilesAvx512(w.type, part);
        else if (floats)
            detail::floatTilesAvx2(w.type, part);
        else if (wide)
            detail::tileMatmulAvx512(w.type, part);
        else
            detail::tileMatmulAvx2(w.type, part);
    });
    return true;
}

// A matrix of a group, its rows numbered after those of the matrices before it.
struct GroupPart {
    PackedMatrix w;
    std::size_t stride;
    float* y;
    std::int64_t ldy;
    std::int64_t firstRow;
};

// Rows [begin, end) of one matrix for every token, one token at a time: the generation
// kernels where the active family has them for this dtype, vecDot's otherwise.
void rowProducts(const GroupPart& p, const ActivationRows& x, std::int64_t begin,
                 std::int64_t end) {
    const PackedMatrix& w = p.w;
    if (w.interleaved) {
        const std::int64_t whole = w.rows / 8 * 8;
        if (hasInterleavedRows(w.type) && begin % 8 == 0 && std::min(end, whole) - begin >= 8) {
            const std::int64_t groupEnd = std::min(end, whole) / 8 * 8;
            const auto gemv = w.type == DType::Q4_0 ? gemvQ4_0x8Avx2 : gemvQ4_Kx8Avx2;
            for (std::int64_t t = 0; t < x.tokens; ++t)
                gemv(w.data, begin / 8, (groupEnd - begin) / 8, x.row(t), w.cols,
                     p.y + t * p.ldy + begin);
            if (groupEnd < end) rowProducts(p, x, groupEnd, end);
            return;
        }
        // Rows outside whole groups, or no interleaved kernel: the plain rows' products.
        GroupPart plain = p;
        plain.w.data = plainRowsOf(w, begin, end);
        plain.w.rows = end - begin;
        plain.w.interleaved = false;
        plain.y = p.y + begin;
        rowProducts(plain, x, 0, end - begin);
        return;
    }
    if (activeIsa() != Isa::Scalar && hasGemvAvx2(w.type)) {
        for (std::int64_t t = 0; t < x.tokens; ++t)
            gemvAvx2(w.type, w.data, p.stride, begin, end, x.row(t), w.cols,
                     p.y + t * p.ldy + begin);
        return;
    }
    const VecDotFn dot = dotFor(w.type);
    // A tile of weight rows stays in the first-level cache while every token passes over it.
    constexpr std::int64_t kRowTile = 16;
    for (std::int64_t r0 = begin; r0 < end; r0 += kRowTile) {
        const std::int64_t r1 = std::min(end, r0 + kRowTile);
        for (std::int64_t t = 0; t < x.tokens; ++t) {
            const std::byte* a = x.row(t);
            float* out = p.y + t * p.ldy;
            for (std::int64_t r = r0; r < r1; ++r) out[r] = dot(w.data + r * p.stride, a, w.cols);
        }
    }
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

void quantizationErrors(std::span<const DType> types, const float* in, std::int64_t n,
                        double* errors) {
    std::vector<DType> shared;
    std::vector<std::size_t> at;  // where each shared format's error goes
    for (std::size_t k = 0; k < types.size(); ++k) {
        const DType t = types[k];
        const bool legacy = t == DType::Q4_0 || t == DType::Q4_1 || t == DType::Q5_0 ||
                            t == DType::Q5_1 || t == DType::Q8_0;
        if (legacy && activeIsa() != Isa::Scalar) {
            checkRow(t, n);
            shared.push_back(t);
            at.push_back(k);
        } else {
            errors[k] = quantizationError(t, in, n);
        }
    }
    if (shared.empty()) return;
    std::vector<double> out(shared.size());
    (activeIsa() == Isa::Avx512 ? detail::squaredErrorsLegacyAvx512
                                : detail::squaredErrorsLegacyAvx2)(
        in, n, shared.data(), static_cast<int>(shared.size()), out.data());
    for (std::size_t k = 0; k < shared.size(); ++k) errors[at[k]] = out[k];
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

double dequantizeRowSquares(DType type, const std::byte* row, float* out, std::int64_t n,
                            float* min, float* max) {
    if ((type != DType::F16 && type != DType::BF16) || activeIsa() == Isa::Scalar) {
        dequantizeRow(type, row, out, n);
        return sumOfSquares(out, n, min, max);
    }
    checkRow(type, n);
    float lo = std::numeric_limits<float>::infinity(), hi = -lo;
    const double sum = halfRowSquaresAvx2(type == DType::BF16, row, out, n, lo, hi,
                                          min != nullptr || max != nullptr);
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

void matmulPackedGroup(std::span<const PackedProduct> products, const ActivationRows& x,
                       int threads) {
    std::vector<GroupPart> parts;
    std::int64_t rows = 0;
    const float* packedTokens = nullptr;
    for (const PackedProduct& p : products) {
        const PackedMatrix& w = p.w;
        if (x.type != activationType(w.type) || x.cols != w.cols)
            throw Error("activations (" + dtypeName(x.type) + ", " + std::to_string(x.cols) +
                        " values) do not fit " + dtypeName(w.type) + " weights of " +
                        std::to_string(w.cols) +
                        " columns; quantize them with quantizeActivations for this weight dtype");
        checkRow(w.type, w.cols);
        if (w.interleaved && (!rowsX8(w.type).blockBytes || w.rowStride != 0))
            throw Error("interleaved rows must be Q4_0 or Q4_K back to back (" + dtypeName(w.type) +
                        " given); interleave only those with interleaveRows");
        const std::size_t stride = w.rowStride ? w.rowStride : rowBytes(w.type, w.cols);
        const std::int64_t ldy = p.ldy ? p.ldy : w.rows;
        if (x.tokens >= kBatchTokens && activeIsa() != Isa::Scalar) {
            if (isFloatType(w.type) && !packedTokens) packedTokens = packFloatTokens(x, threads);
            if (batchedProduct(w, stride, x, p.y, threads, ldy, packedTokens)) continue;
        }
        parts.push_back({w, stride, p.y, ldy, rows});
        rows += w.rows;
    }
    if (rows == 0) return;
    // Chunks of 64 rows, a multiple of the generation kernels' 4.
    splitChunks(rows, 64, threads, [&](std::int64_t begin, std::int64_t end) {
        for (const GroupPart& part : parts) {
            const std::int64_t b = std::max(begin, part.firstRow) - part.firstRow;
            const std::int64_t e = std::min(end, part.firstRow + part.w.rows) - part.firstRow;
            if (b < e) rowProducts(part, x, b, e);
        }
    });
}

void matmulPacked(const PackedMatrix& w, const ActivationRows& x, float* y, int threads,
                  std::int64_t ldy) {
    const PackedProduct product{w, y, ldy};
    matmulPackedGroup({&product, 1}, x, threads);
}

void matmulPacked(const PackedMatrix& w, const float* x, std::int64_t tokens, float* y, int threads,
                  std::int64_t ldy) {
    matmulPacked(w, quantizeActivations(w.type, x, tokens, w.cols, threads), y, threads, ldy);
}

}  // namespace cwb::quant
