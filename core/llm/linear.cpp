// The linear seam; see linear.h.
#include "core/llm/linear.h"

#include <immintrin.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <memory>
#include <vector>

#include "core/error.h"
#include "core/infer/cpu/gemm.h"
#include "core/model/huge_page_storage.h"
#include "core/quant/block_formats.h"
#include "core/quant/quant_rows.h"

namespace cwb {

namespace {

// Products smaller than this many multiply-adds run on the calling thread: waking the pool
// costs more (generation on a small model).
constexpr double kParallelMacs = 1 << 18;
// The float32 budget of one converted tile of weight rows (1 MB).
constexpr long long kTileFloats = 1 << 18;

std::size_t rowBytesOf(const Tensor& w) { return quant::rowBytes(w.dtype(), w.shape().at(1)); }

// Rows [row, row + rows) of a plain or Q8_K matrix as float32. F16 and BF16 are converted 8 at
// a time with AVX2 and F16C where the CPU has them: core/quant's row decoder is exact but
// scalar.
void rowsToFloat(const Tensor& w, long long row, long long rows, long long cols, float* out) {
    const std::byte* first = w.bytes() + row * rowBytesOf(w);
    const long long n = rows * cols;  // rows are back to back
    long long i = 0;
#if defined(__AVX2__) && defined(__F16C__)
    const auto* src = reinterpret_cast<const std::uint16_t*>(first);
    if (w.dtype() == DType::F16)
        for (; i + 8 <= n; i += 8)
            _mm256_storeu_ps(
                out + i,
                _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(src + i))));
    if (w.dtype() == DType::BF16)
        for (; i + 8 <= n; i += 8) {
            const __m128i h = _mm_loadu_si128(reinterpret_cast<const __m128i*>(src + i));
            _mm256_storeu_ps(out + i,
                             _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16)));
        }
#endif
    if (i < n)
        quant::dequantizeRow(w.dtype(), first + i * static_cast<long long>(dtypeSize(w.dtype())),
                             out + i, n - i);
}

// Tiles of rows converted to float32 times the activations by SGEMM, for any number of
// tokens: Q8_K has no packed product (llama.cpp uses it for activations only), and the
// workbench's alpha grids are stored in it (core/llm/compact_matrix.h). (Plain rows take
// core/quant's float tiles, AVX2 or AVX-512: on an AVX-512 Xeon, Debian's OpenBLAS ran its
// SGEMM at a fifth of their rate.) A tile is as wide as the float budget allows (SGEMM packs
// the activations once per call), but there are at least two per thread.
bool viaSgemm(DType t) { return t == DType::Q8_K; }

void sgemmTiles(const Tensor& weight, const float* x, int tokens, float* y, WorkerPool& pool) {
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
            const float* w = nullptr;
            if (weight.dtype() == DType::F32) {
                w = reinterpret_cast<const float*>(weight.bytes()) + o0 * in;
            } else {
                tile.resize(static_cast<std::size_t>(rows * in));
                rowsToFloat(weight, o0, rows, in, tile.data());
                w = tile.data();
            }
            cpu::sgemmNT(tokens, static_cast<int>(rows), static_cast<int>(in), x,
                         static_cast<int>(in), w, static_cast<int>(in), y + o0,
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

void linear(const Tensor& weight, const float* x, int tokens, float* y, WorkerPool& pool,
            bool interleaved) {
    const Tensor* weights[] = {&weight};
    float* ys[] = {y};
    linearGroup(weights, x, tokens, ys, pool, interleaved);
}

Tensor interleavedRows(const Tensor& weight) {
    const DType type = weight.dtype();
    if ((type != DType::Q4_0 && type != DType::Q4_K) || weight.shape().size() != 2)
        throw Error("linear: only a 2-D Q4_0 or Q4_K matrix can be interleaved, not " +
                    dtypeName(type) + " " + shapeToString(weight.shape()));
    auto storage = std::make_shared<HugePageStorage>(weight.byteSize());
    quant::interleaveRows(type, weight.bytes(), weight.shape()[0], weight.shape()[1],
                          storage->mutableData());
    return Tensor(weight.shape(), type, std::move(storage));
}

Tensor hugePageCopy(const Tensor& weight) {
    auto storage = std::make_shared<HugePageStorage>(weight.byteSize());
    if (weight.byteSize()) std::memcpy(storage->mutableData(), weight.bytes(), weight.byteSize());
    return Tensor(weight.shape(), weight.dtype(), std::move(storage));
}

void linearGroup(std::span<const Tensor* const> weights, const float* x, int tokens,
                 std::span<float* const> ys, WorkerPool& pool, bool interleaved) {
    if (tokens <= 0 || weights.empty()) return;
    const DType type = weights[0]->dtype();
    const std::int64_t in = weights[0]->shape().at(1);
    for (const Tensor* w : weights) {
        if (!linearSupports(w->dtype()))
            throw Error("linear: weights of type " + dtypeName(w->dtype()) +
                        " cannot be multiplied; use F32, F16, BF16 or a llama.cpp block format");
        if (w->dtype() != type || w->shape().at(1) != in) {
            for (std::size_t j = 0; j < weights.size(); ++j)
                linearGroup(weights.subspan(j, 1), x, tokens, ys.subspan(j, 1), pool, interleaved);
            return;
        }
    }
    std::vector<quant::PackedProduct> products;
    double macs = 0;
    for (std::size_t i = 0; i < weights.size(); ++i) {
        const Tensor& w = *weights[i];
        if (w.shape().at(0) <= 0) continue;
        if (viaSgemm(type)) {
            cpu::setBlasThreads(1);  // the pool's threads call BLAS concurrently
            sgemmTiles(w, x, tokens, ys[i], pool);
            continue;
        }
        const bool x8 = interleaved && (type == DType::Q4_0 || type == DType::Q4_K);
        products.push_back({{type, w.bytes(), w.shape()[0], in, 0, x8}, ys[i], 0});
        macs += double(tokens) * double(w.shape()[0]) * double(in);
    }
    if (products.empty()) return;
    const int threads = macs < kParallelMacs ? 1 : pool.threads();
    quant::matmulPackedGroup(products, quant::quantizeActivations(type, x, tokens, in, threads),
                             threads);
}

}  // namespace cwb
