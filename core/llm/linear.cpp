// The linear seam; see linear.h.
#include "core/llm/linear.h"

#include <algorithm>
#include <cstdint>
#include <vector>

#include "core/error.h"
#include "core/infer/cpu/gemm.h"
#include "core/quant/quant_rows.h"

namespace cwb {

namespace {

// Products smaller than this many multiply-adds run on the calling thread: waking the pool
// costs more (generation on a small model).
constexpr double kParallelMacs = 1 << 18;
// The float32 budget of one converted tile of weight rows (1 MB).
constexpr long long kTileFloats = 1 << 18;

std::size_t rowBytesOf(const Tensor& w) { return quant::rowBytes(w.dtype(), w.shape().at(1)); }

// Q8_K has no packed product (llama.cpp uses it for activations only): the workbench's alpha
// grids are stored in it (core/llm/compact_matrix.h), and tiles of their rows are converted to
// float32 and multiplied by SGEMM, for any number of tokens. A tile is as wide as the float
// budget allows (SGEMM packs the activations once per call), but there are at least two per
// thread.
void gemmQ8K(const Tensor& weight, const float* x, int tokens, float* y, WorkerPool& pool) {
    const long long out = weight.shape()[0], in = weight.shape()[1];
    const long long byBudget = kTileFloats / std::max<long long>(in, 1);
    const long long bySplit = (out + 2LL * pool.threads() - 1) / (2LL * pool.threads());
    const long long tileRows =
        std::max<long long>(16, (std::min(byBudget, bySplit) + 15) / 16 * 16);
    const long long tiles = (out + tileRows - 1) / tileRows;
    pool.run(tiles, [&](long long begin, long long end, int) {
        thread_local std::vector<float> tile;
        for (long long ti = begin; ti < end; ++ti) {
            const long long o0 = ti * tileRows;
            const long long rows = std::min(tileRows, out - o0);
            tile.resize(static_cast<std::size_t>(rows * in));
            quant::dequantizeRow(weight.dtype(), weight.bytes() + o0 * rowBytesOf(weight),
                                 tile.data(), rows * in);  // rows are back to back
            cpu::sgemmNT(tokens, static_cast<int>(rows), static_cast<int>(in), x,
                         static_cast<int>(in), tile.data(), static_cast<int>(in), y + o0,
                         static_cast<int>(out));
        }
    });
}

}  // namespace

bool linearSupports(DType type) { return quant::isWeightType(type) || type == DType::Q8_K; }

void tensorRowToFloat(const Tensor& matrix, long long row, float* out) {
    const std::int64_t cols = matrix.shape().at(1);
    quant::dequantizeRow(matrix.dtype(), matrix.bytes() + row * rowBytesOf(matrix), out, cols);
}

void linear(const Tensor& weight, const float* x, int tokens, float* y, WorkerPool& pool) {
    const Tensor* weights[] = {&weight};
    float* ys[] = {y};
    linearGroup(weights, x, tokens, ys, pool);
}

void linearGroup(std::span<const Tensor* const> weights, const float* x, int tokens,
                 std::span<float* const> ys, WorkerPool& pool) {
    if (tokens <= 0 || weights.empty()) return;
    const DType type = weights[0]->dtype();
    const std::int64_t in = weights[0]->shape().at(1);
    for (const Tensor* w : weights) {
        if (!linearSupports(w->dtype()))
            throw Error("linear: weights of type " + dtypeName(w->dtype()) +
                        " cannot be multiplied; use F32, F16, BF16 or a llama.cpp block format");
        if (w->dtype() != type || w->shape().at(1) != in) {
            for (std::size_t j = 0; j < weights.size(); ++j)
                linearGroup(weights.subspan(j, 1), x, tokens, ys.subspan(j, 1), pool);
            return;
        }
    }
    std::vector<quant::PackedProduct> products;
    double macs = 0;
    for (std::size_t i = 0; i < weights.size(); ++i) {
        const Tensor& w = *weights[i];
        if (w.shape().at(0) <= 0) continue;
        if (type == DType::Q8_K) {
            cpu::setBlasThreads(1);  // the pool's threads call BLAS concurrently
            gemmQ8K(w, x, tokens, ys[i], pool);
            continue;
        }
        products.push_back({{type, w.bytes(), w.shape()[0], in, 0}, ys[i], 0});
        macs += double(tokens) * double(w.shape()[0]) * double(in);
    }
    if (products.empty()) return;
    const int threads = macs < kParallelMacs ? 1 : pool.threads();
    quant::matmulPackedGroup(products, quant::quantizeActivations(type, x, tokens, in, threads),
                             threads);
}

}  // namespace cwb
