// The linear seam; see linear.h.
#include "core/llm/linear.h"

#include <algorithm>
#include <cstdint>
#include <vector>

#include "core/error.h"
#include "core/infer/cpu/gemm.h"
#include "core/quant/fp16.h"
#include "core/quant/quant_rows.h"

namespace cwb {

namespace {

// From this many tokens on, plain weights go through SGEMM (prefill); below, dot products.
constexpr int kGemmMinTokens = 4;
// The same for block weights (BatchKernel::DecodedTiles): decoding a tile costs more than a
// plain conversion, so it pays from larger batches on.
constexpr int kDecodedTilesMinTokens = 32;
// Products smaller than this many multiply-adds run on the calling thread: waking the pool
// costs more (generation on a small model).
constexpr double kParallelMacs = 1 << 18;
// The float32 budget of one converted tile of weight rows.
constexpr long long kTileFloats = 1 << 16;
// Q8_1 blocks: fp16 d, fp16 s = d * sum(q) (from the unrounded d), then 32 int8 codes. Q4_1
// and Q5_1 blocks of 32 weights begin with fp16 d and fp16 m (the minimum).
constexpr std::size_t kQ8_1Bytes = 36;
constexpr long long kBlock = 32;

bool isPlain(DType t) { return t == DType::F32 || t == DType::F16 || t == DType::BF16; }

std::size_t rowBytesOf(const Tensor& w) { return quant::rowBytes(w.dtype(), w.shape().at(1)); }

// Activations as the packed kernels see them: rounded through the Q8 format that
// `weightType` multiplies with, and decoded. For Q8_1 also the per-block correction of the
// weights' minimum term (see addMinimumTerm).
struct RoundedActivations {
    const float* x = nullptr;
    std::vector<float> values;
    std::vector<float> minimumTerm;  // [tokens, in / 32]: s - d * sum(q); Q8_1 only
};

void roundActivations(DType weightType, const float* x, int tokens, long long in, WorkerPool& pool,
                      RoundedActivations& out) {
    const DType act = quant::activationType(weightType);
    if (act == DType::F32) {
        out.x = x;
        out.minimumTerm.clear();
        return;
    }
    const long long blocks = in / kBlock;
    out.values.resize(static_cast<std::size_t>(tokens * in));
    out.minimumTerm.resize(act == DType::Q8_1 ? static_cast<std::size_t>(tokens * blocks) : 0);
    const std::size_t bytes = quant::rowBytes(act, in);
    pool.run(tokens, [&](long long begin, long long end, int) {
        std::vector<std::byte> row(bytes);
        for (long long t = begin; t < end; ++t) {
            quant::quantizeActivationRow(weightType, x + t * in, row.data(), in);
            quant::dequantizeRow(act, row.data(), out.values.data() + t * in, in);
            if (act != DType::Q8_1) continue;
            for (long long b = 0; b < blocks; ++b) {
                const std::byte* block = row.data() + b * kQ8_1Bytes;
                int sum = 0;
                for (int j = 0; j < kBlock; ++j) sum += static_cast<std::int8_t>(block[4 + j]);
                // d (11 bits) times sum (at most 12 bits) is exact in float.
                out.minimumTerm[static_cast<std::size_t>(t * blocks + b)] =
                    loadHalf(block + 2) - loadHalf(block) * static_cast<float>(sum);
            }
        }
    });
    out.x = out.values.data();
}

// Q4_1/Q5_1 with Q8_1 activations: the packed kernels add m * s per block, where decoded
// activations give m * d * sum(q); y += mins . (s - d * sum(q)) for rows [o0, o0 + rows).
void addMinimumTerm(const Tensor& weight, long long o0, long long rows,
                    const std::vector<float>& minimumTerm, int tokens, float* y,
                    std::vector<float>& mins) {
    const long long in = weight.shape()[1], out = weight.shape()[0], blocks = in / kBlock;
    const std::size_t stride = rowBytesOf(weight), blockBytes = dtypeBlockBytes(weight.dtype());
    mins.resize(static_cast<std::size_t>(rows * blocks));
    for (long long r = 0; r < rows; ++r)
        for (long long b = 0; b < blocks; ++b)
            mins[static_cast<std::size_t>(r * blocks + b)] =
                loadHalf(weight.bytes() + (o0 + r) * stride + b * blockBytes + 2);
    cpu::sgemmNT(tokens, static_cast<int>(rows), static_cast<int>(blocks), minimumTerm.data(),
                 static_cast<int>(blocks), mins.data(), static_cast<int>(blocks), y + o0,
                 static_cast<int>(out), true);
}

// Tiles of decoded rows times the activations by SGEMM.
void gemmDecoded(const Tensor& weight, const RoundedActivations& x, int tokens, float* y,
                 WorkerPool& pool) {
    const long long out = weight.shape()[0], in = weight.shape()[1];
    const std::size_t stride = rowBytesOf(weight);
    const long long tileRows =
        std::max<long long>(16, kTileFloats / std::max<long long>(in, 1) / 16 * 16);
    const long long tiles = (out + tileRows - 1) / tileRows;
    pool.run(tiles, [&](long long begin, long long end, int) {
        thread_local std::vector<float> tile, mins;
        for (long long ti = begin; ti < end; ++ti) {
            const long long o0 = ti * tileRows;
            const long long rows = std::min(tileRows, out - o0);
            const float* w = nullptr;
            if (weight.dtype() == DType::F32) {
                w = reinterpret_cast<const float*>(weight.bytes()) + o0 * in;
            } else {
                tile.resize(static_cast<std::size_t>(rows * in));
                for (long long r = 0; r < rows; ++r)
                    quant::dequantizeRow(weight.dtype(), weight.bytes() + (o0 + r) * stride,
                                         tile.data() + r * in, in);
                w = tile.data();
            }
            cpu::sgemmNT(tokens, static_cast<int>(rows), static_cast<int>(in), x.x,
                         static_cast<int>(in), w, static_cast<int>(in), y + o0,
                         static_cast<int>(out));
            if (!x.minimumTerm.empty())
                addMinimumTerm(weight, o0, rows, x.minimumTerm, tokens, y, mins);
        }
    });
}

}  // namespace

bool linearSupports(DType type) { return quant::isWeightType(type); }

void tensorRowToFloat(const Tensor& matrix, long long row, float* out) {
    const std::int64_t cols = matrix.shape().at(1);
    quant::dequantizeRow(matrix.dtype(), matrix.bytes() + row * rowBytesOf(matrix), out, cols);
}

void linear(const Tensor& weight, const float* x, int tokens, float* y, WorkerPool& pool,
            BatchKernel batch) {
    if (!linearSupports(weight.dtype()))
        throw Error("linear: weights of type " + dtypeName(weight.dtype()) +
                    " cannot be multiplied; use F32, F16, BF16 or a llama.cpp block format");
    if (tokens <= 0 || weight.shape().at(0) <= 0) return;
    cpu::setBlasThreads(1);  // the pool's threads call BLAS concurrently
    const bool plain = isPlain(weight.dtype());
    if ((plain && tokens >= kGemmMinTokens) ||
        (!plain && batch == BatchKernel::DecodedTiles && tokens >= kDecodedTilesMinTokens)) {
        thread_local RoundedActivations rounded;
        roundActivations(weight.dtype(), x, tokens, weight.shape()[1], pool, rounded);
        gemmDecoded(weight, rounded, tokens, y, pool);
        return;
    }
    const quant::PackedMatrix packed{weight.dtype(), weight.bytes(), weight.shape()[0],
                                     weight.shape()[1], 0};
    const double macs = double(tokens) * double(weight.shape()[0]) * double(weight.shape()[1]);
    quant::matmulPacked(packed, x, tokens, y, macs < kParallelMacs ? 1 : pool.threads());
}

}  // namespace cwb
