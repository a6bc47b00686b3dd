// The float path of the linear seam; see linear.h.
#include "core/llm/linear.h"

#include <immintrin.h>

#include <algorithm>
#include <bit>
#include <cstdint>
#include <cstring>

#include "core/error.h"
#include "core/infer/cpu/gemm.h"

namespace cwb {

namespace {

// Below this many tokens a product is a set of dot products (generation); from it on, tiles
// of converted rows go through SGEMM (prefill).
constexpr int kGemmMinTokens = 4;
// Rows per dot-product task, and the float32 budget of one converted tile for SGEMM.
constexpr long long kRowsPerTask = 16;
constexpr long long kTileFloats = 1 << 16;

float halfToFloat(std::uint16_t h) {
#ifdef __F16C__
    return _cvtsh_ss(h);
#else
    const std::uint32_t sign = (h & 0x8000u) << 16;
    const std::uint32_t exponent = (h >> 10) & 0x1fu;
    const std::uint32_t mantissa = h & 0x3ffu;
    if (exponent == 0x1f) return std::bit_cast<float>(sign | 0x7f800000u | (mantissa << 13));
    if (exponent != 0)
        return std::bit_cast<float>(sign | ((exponent + 112) << 23) | (mantissa << 13));
    const float magnitude = static_cast<float>(mantissa) * 0x1p-24f;  // subnormal or zero
    return sign ? -magnitude : magnitude;
#endif
}

void halfRowToFloat(const std::uint16_t* src, long long n, float* out) {
    long long i = 0;
#ifdef __F16C__
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(
            out + i, _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(src + i))));
#endif
    for (; i < n; ++i) out[i] = halfToFloat(src[i]);
}

void bf16RowToFloat(const std::uint16_t* src, long long n, float* out) {
    for (long long i = 0; i < n; ++i) out[i] = std::bit_cast<float>(std::uint32_t(src[i]) << 16);
}

// Rows [row, row + rows) of a [*, cols] matrix as float32, row-major.
void rowsToFloat(const Tensor& w, long long row, long long rows, long long cols, float* out) {
    const long long n = rows * cols;
    switch (w.dtype()) {
        case DType::F32:
            std::memcpy(out, w.bytes() + row * cols * 4, static_cast<std::size_t>(n) * 4);
            return;
        case DType::F16:
            halfRowToFloat(reinterpret_cast<const std::uint16_t*>(w.bytes()) + row * cols, n, out);
            return;
        case DType::BF16:
            bf16RowToFloat(reinterpret_cast<const std::uint16_t*>(w.bytes()) + row * cols, n, out);
            return;
        default:
            throw Error("linear: weights of type " + dtypeName(w.dtype()) +
                        " are not supported by this build");
    }
}

// A dot product in 16 fixed lanes, summed in a fixed order: vectorizes without -ffast-math.
float dot(const float* a, const float* b, long long n) {
    constexpr int kLanes = 16;
    float acc[kLanes] = {};
    long long i = 0;
    for (; i + kLanes <= n; i += kLanes)
        for (int l = 0; l < kLanes; ++l) acc[l] += a[i + l] * b[i + l];
    for (int l = 0; i < n; ++i, ++l) acc[l] += a[i] * b[i];
    for (int w = kLanes / 2; w > 0; w /= 2)
        for (int l = 0; l < w; ++l) acc[l] += acc[l + w];
    return acc[0];
}

}  // namespace

bool linearSupports(DType type) {
    return type == DType::F32 || type == DType::F16 || type == DType::BF16;
}

void tensorRowToFloat(const Tensor& matrix, long long row, float* out) {
    rowsToFloat(matrix, row, 1, matrix.shape().at(1), out);
}

void linear(const Tensor& weight, const float* x, int tokens, float* y, WorkerPool& pool) {
    const long long out = weight.shape().at(0);
    const long long in = weight.shape().at(1);
    if (!linearSupports(weight.dtype()))
        throw Error("linear: weights of type " + dtypeName(weight.dtype()) +
                    " are not supported by this build");
    if (tokens <= 0 || out <= 0) return;
    cpu::setBlasThreads(1);  // the pool's threads call BLAS concurrently

    if (tokens < kGemmMinTokens) {
        const long long tasks = (out + kRowsPerTask - 1) / kRowsPerTask;
        pool.run(tasks, [&](long long begin, long long end, int) {
            thread_local std::vector<float> row;
            row.resize(static_cast<std::size_t>(in));
            for (long long o = begin * kRowsPerTask; o < std::min(out, end * kRowsPerTask); ++o) {
                const float* w = row.data();
                if (weight.dtype() == DType::F32)
                    w = reinterpret_cast<const float*>(weight.bytes()) + o * in;
                else
                    rowsToFloat(weight, o, 1, in, row.data());
                for (int t = 0; t < tokens; ++t) y[t * out + o] = dot(w, x + t * in, in);
            }
        });
        return;
    }

    // Tiles of rows, as many as fit the float budget (a multiple of 16, at least 16).
    const long long tileRows =
        std::max<long long>(16, kTileFloats / std::max<long long>(in, 1) / 16 * 16);
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

}  // namespace cwb
