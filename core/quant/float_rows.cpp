// Dot products of F32, F16 and BF16 weight rows with float32 activations, converting the
// weights on the fly: a plain loop (the reference), AVX2 with F16C, and AVX-512.
#include <algorithm>
#include <vector>

#include "core/quant/fp16.h"
#include "core/quant/kernels.h"
#include "core/quant/simd_target.h"
#include "core/quant/tile_kernels.h"

namespace cwb::quant::detail {
namespace {

std::uint16_t load16(const std::byte* p, std::int64_t i) {
    std::uint16_t h;
    std::memcpy(&h, p + 2 * i, 2);
    return h;
}
float loadF32(const std::byte* p, std::int64_t i) {
    float v;
    std::memcpy(&v, p + 4 * i, 4);
    return v;
}

// The reference, and the tails of the vector kernels: a plain sum from `begin`.
template <typename Load>
float dotFrom(const std::byte* w, const std::byte* a, std::int64_t begin, std::int64_t n,
              Load load) {
    float sum = 0.f;
    for (std::int64_t i = begin; i < n; ++i) sum += load(w, i) * loadF32(a, i);
    return sum;
}
float f32At(const std::byte* w, std::int64_t i) { return loadF32(w, i); }
float f16At(const std::byte* w, std::int64_t i) { return halfToFloat(load16(w, i)); }
float bf16At(const std::byte* w, std::int64_t i) { return bf16ToFloat(load16(w, i)); }

CWB_QUANT_AVX2 inline float hsum8(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

template <int kind>
CWB_QUANT_AVX2 inline __m256 loadW8(const std::byte* w, std::int64_t i) {
    if constexpr (kind == 0) return _mm256_loadu_ps(reinterpret_cast<const float*>(w) + i);
    const __m128i h = _mm_loadu_si128(reinterpret_cast<const __m128i*>(w + 2 * i));
    if constexpr (kind == 1) return _mm256_cvtph_ps(h);
    return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16));
}

template <int kind>
CWB_QUANT_AVX512 inline __m512 loadW16(const std::byte* w, std::int64_t i) {
    if constexpr (kind == 0) return _mm512_loadu_ps(reinterpret_cast<const float*>(w) + i);
    const __m256i h = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w + 2 * i));
    if constexpr (kind == 1) return _mm512_cvtph_ps(h);
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
}

// kind: 0 F32, 1 F16, 2 BF16. Four accumulators hide the latency of the fused multiply-add.
template <int kind, typename Load>
CWB_QUANT_AVX2 float dotAvx2(const std::byte* w, const std::byte* a, std::int64_t n, Load load) {
    const auto* x = reinterpret_cast<const float*>(a);
    __m256 acc[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(),
                     _mm256_setzero_ps()};
    std::int64_t i = 0;
    for (; i + 32 <= n; i += 32)
        for (int k = 0; k < 4; ++k)
            acc[k] =
                _mm256_fmadd_ps(loadW8<kind>(w, i + 8 * k), _mm256_loadu_ps(x + i + 8 * k), acc[k]);
    for (; i + 8 <= n; i += 8)
        acc[0] = _mm256_fmadd_ps(loadW8<kind>(w, i), _mm256_loadu_ps(x + i), acc[0]);
    const __m256 s = _mm256_add_ps(_mm256_add_ps(acc[0], acc[1]), _mm256_add_ps(acc[2], acc[3]));
    return hsum8(s) + dotFrom(w, a, i, n, load);
}

template <int kind, typename Load>
CWB_QUANT_AVX512 float dotAvx512(const std::byte* w, const std::byte* a, std::int64_t n,
                                 Load load) {
    const auto* x = reinterpret_cast<const float*>(a);
    __m512 acc[4] = {_mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps(),
                     _mm512_setzero_ps()};
    std::int64_t i = 0;
    for (; i + 64 <= n; i += 64)
        for (int k = 0; k < 4; ++k)
            acc[k] = _mm512_fmadd_ps(loadW16<kind>(w, i + 16 * k), _mm512_loadu_ps(x + i + 16 * k),
                                     acc[k]);
    for (; i + 16 <= n; i += 16)
        acc[0] = _mm512_fmadd_ps(loadW16<kind>(w, i), _mm512_loadu_ps(x + i), acc[0]);
    const __m512 s = _mm512_add_ps(_mm512_add_ps(acc[0], acc[1]), _mm512_add_ps(acc[2], acc[3]));
    return _mm512_reduce_add_ps(s) + dotFrom(w, a, i, n, load);
}

}  // namespace

float dotF32Ref(const std::byte* w, const std::byte* a, std::int64_t n) {
    return dotFrom(w, a, 0, n, f32At);
}
float dotF16Ref(const std::byte* w, const std::byte* a, std::int64_t n) {
    return dotFrom(w, a, 0, n, f16At);
}
float dotBF16Ref(const std::byte* w, const std::byte* a, std::int64_t n) {
    return dotFrom(w, a, 0, n, bf16At);
}

CWB_QUANT_AVX2 float dotF32Avx2(const std::byte* w, const std::byte* a, std::int64_t n) {
    return dotAvx2<0>(w, a, n, f32At);
}
CWB_QUANT_AVX2 float dotF16Avx2(const std::byte* w, const std::byte* a, std::int64_t n) {
    return dotAvx2<1>(w, a, n, f16At);
}
CWB_QUANT_AVX2 float dotBF16Avx2(const std::byte* w, const std::byte* a, std::int64_t n) {
    return dotAvx2<2>(w, a, n, bf16At);
}

CWB_QUANT_AVX512 float dotF32Avx512(const std::byte* w, const std::byte* a, std::int64_t n) {
    return dotAvx512<0>(w, a, n, f32At);
}
CWB_QUANT_AVX512 float dotF16Avx512(const std::byte* w, const std::byte* a, std::int64_t n) {
    return dotAvx512<1>(w, a, n, f16At);
}
CWB_QUANT_AVX512 float dotBF16Avx512(const std::byte* w, const std::byte* a, std::int64_t n) {
    return dotAvx512<2>(w, a, n, bf16At);
}

// ---- batched products of float rows (prefill): the activations of 16 tokens are laid out
// column by column once per product (packTokens), 16 tokens' values of a column side by side
// in two registers; 6 weight rows (a tile of a panel converted to float32 a block of columns
// at a time) each broadcast their value of a column against both, 12 accumulators in all. Each
// row's sum runs over the columns in order: the same numbers whatever the split between threads,
// though in another order than vecDot's.

namespace {

constexpr int kGroupTokens = static_cast<int>(kFloatGroupTokens);
constexpr int kTileRows = 6;
// Columns per block: a block of a group's packed tokens (16 KB) and of a tile's rows (6 KB)
// stay in the first-level cache while the tile passes over it.
constexpr std::int64_t kBlockColumns = 256;
// Rows per panel: 8 tiles, 48 KB of float32 for a block of columns.
constexpr std::int64_t kPanelRows = 8 * kTileRows;

// 8 registers of 8 floats, transposed in place: register j then holds element j of each.
CWB_QUANT_AVX2 inline void transpose8x8(__m256* r) {
    __m256 t[8], u[8];
    for (int k = 0; k < 8; k += 2) {
        t[k] = _mm256_unpacklo_ps(r[k], r[k + 1]);
        t[k + 1] = _mm256_unpackhi_ps(r[k], r[k + 1]);
    }
    for (int k = 0; k < 8; k += 4) {
        u[k] = _mm256_shuffle_ps(t[k], t[k + 2], 0x44);
        u[k + 1] = _mm256_shuffle_ps(t[k], t[k + 2], 0xee);
        u[k + 2] = _mm256_shuffle_ps(t[k + 1], t[k + 3], 0x44);
        u[k + 3] = _mm256_shuffle_ps(t[k + 1], t[k + 3], 0xee);
    }
    for (int s = 0; s < 4; ++s) {
        r[s] = _mm256_permute2f128_ps(u[s], u[s + 4], 0x20);
        r[s + 4] = _mm256_permute2f128_ps(u[s], u[s + 4], 0x31);
    }
}

CWB_QUANT_AVX2 inline void columnStep(__m256 x0, __m256 x1, const float* w, __m256& lo,
                                      __m256& hi) {
    const __m256 b = _mm256_broadcast_ss(w);
    lo = _mm256_fmadd_ps(x0, b, lo);
    hi = _mm256_fmadd_ps(x1, b, hi);
}

// sums[r][0..15] += weight row w[r] against a packed group of 16 tokens, for R rows, column
// by column. Named accumulators: GCC keeps an array of them in memory and stores each on
// every column.
template <int R>
CWB_QUANT_AVX2 void rowsTimesGroup(const float* group, std::int64_t n, const float* const* w,
                                   float (*sums)[kGroupTokens]) {
    const auto at = [&](int r, int half) {
        return _mm256_loadu_ps(sums[std::min(r, R - 1)] + 8 * half);
    };
    __m256 c0 = at(0, 0), c1 = at(0, 1), c2 = at(1, 0), c3 = at(1, 1), c4 = at(2, 0), c5 = at(2, 1),
           c6 = at(3, 0), c7 = at(3, 1), c8 = at(4, 0), c9 = at(4, 1), c10 = at(5, 0),
           c11 = at(5, 1);
    const float *w0 = w[0], *w1 = w[std::min(1, R - 1)], *w2 = w[std::min(2, R - 1)],
                *w3 = w[std::min(3, R - 1)], *w4 = w[std::min(4, R - 1)],
                *w5 = w[std::min(5, R - 1)];
    for (std::int64_t i = 0; i < n; ++i) {
        const __m256 x0 = _mm256_loadu_ps(group + 16 * i), x1 = _mm256_loadu_ps(group + 16 * i + 8);
        columnStep(x0, x1, w0 + i, c0, c1);
        if constexpr (R > 1) columnStep(x0, x1, w1 + i, c2, c3);
        if constexpr (R > 2) columnStep(x0, x1, w2 + i, c4, c5);
        if constexpr (R > 3) columnStep(x0, x1, w3 + i, c6, c7);
        if constexpr (R > 4) columnStep(x0, x1, w4 + i, c8, c9);
        if constexpr (R > 5) columnStep(x0, x1, w5 + i, c10, c11);
    }
    const __m256 c[2 * kTileRows] = {c0, c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, c11};
    for (int r = 0; r < R; ++r) {
        _mm256_storeu_ps(sums[r], c[2 * r]);
        _mm256_storeu_ps(sums[r] + 8, c[2 * r + 1]);
    }
}

// packed[i * 16 + t] = value i of token t.
CWB_QUANT_AVX2 void packGroup(const float* const* x, std::int64_t n, float* packed) {
    std::int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        for (int half = 0; half < 2; ++half) {
            __m256 r[8];
            for (int t = 0; t < 8; ++t) r[t] = _mm256_loadu_ps(x[8 * half + t] + i);
            transpose8x8(r);
            for (int j = 0; j < 8; ++j) _mm256_storeu_ps(packed + (i + j) * 16 + 8 * half, r[j]);
        }
    for (; i < n; ++i)
        for (int t = 0; t < kGroupTokens; ++t) packed[i * 16 + t] = x[t][i];
}

template <int kind>
CWB_QUANT_AVX2 void toFloat32(const std::byte* w, std::int64_t n, float* out) {
    std::int64_t i = 0;
    if constexpr (kind != 0)
        for (; i + 8 <= n; i += 8) _mm256_storeu_ps(out + i, loadW8<kind>(w, i));
    for (; i < n; ++i) out[i] = kind == 0 ? f32At(w, i) : kind == 1 ? f16At(w, i) : bf16At(w, i);
}

using RowsFn = void (*)(const float*, std::int64_t, const float* const*, float (*)[kGroupTokens]);
constexpr RowsFn kRowsFns[kTileRows] = {rowsTimesGroup<1>, rowsTimesGroup<2>, rowsTimesGroup<3>,
                                        rowsTimesGroup<4>, rowsTimesGroup<5>, rowsTimesGroup<6>};

// Rows [r0, r0 + rows) of the job times every token. The rows are widened a block of columns
// at a time into a panel (second-level cache); then a group's packed tokens (first-level
// cache) meet every tile of the panel in turn. (The other way round, every group against one
// tile, reads the tokens from the second-level cache, 64 bytes for 12 multiply-adds.)
template <int kind>
CWB_QUANT_AVX2 void panelTimesTokens(const TileJob& job, std::int64_t r0, std::int64_t rows) {
    constexpr std::int64_t kValueBytes = kind == 0 ? 4 : 2;
    const std::int64_t n = job.cols;
    const std::int64_t groups = (job.tokens + kGroupTokens - 1) / kGroupTokens;
    const std::int64_t tiles = (rows + kTileRows - 1) / kTileRows;
    thread_local std::vector<float> panel, sums;
    panel.resize(static_cast<std::size_t>(rows * kBlockColumns));
    sums.assign(static_cast<std::size_t>(groups * tiles * kTileRows * kGroupTokens), 0.f);
    auto* tileSums = reinterpret_cast<float(*)[kGroupTokens]>(sums.data());
    for (std::int64_t i0 = 0; i0 < n; i0 += kBlockColumns) {
        const std::int64_t columns = std::min(kBlockColumns, n - i0);
        for (std::int64_t r = 0; r < rows; ++r) {
            const std::byte* row = job.weights + (r0 + r) * job.stride;
            toFloat32<kind>(row + i0 * kValueBytes, columns, panel.data() + r * kBlockColumns);
            // Each row is read once, from memory, a short run at a time: ask for its next run
            // while this block is multiplied.
            if (i0 + kBlockColumns < n)
                for (std::int64_t b = 0; b < kBlockColumns * kValueBytes; b += 64)
                    _mm_prefetch(
                        reinterpret_cast<const char*>(row + (i0 + kBlockColumns) * kValueBytes + b),
                        _MM_HINT_T1);
        }
        for (std::int64_t g = 0; g < groups; ++g)
            for (std::int64_t t = 0; t < tiles; ++t) {
                const int count =
                    static_cast<int>(std::min<std::int64_t>(kTileRows, rows - t * kTileRows));
                const float* w[kTileRows];
                for (int r = 0; r < kTileRows; ++r)
                    w[r] = panel.data() + (t * kTileRows + std::min(r, count - 1)) * kBlockColumns;
                kRowsFns[count - 1](job.packedTokens + (g * n + i0) * kGroupTokens, columns, w,
                                    tileSums + (g * tiles + t) * kTileRows);
            }
    }
    for (std::int64_t tok = 0; tok < job.tokens; ++tok)
        for (std::int64_t r = 0; r < rows; ++r)
            job.y[tok * job.ldy + r0 + r] =
                tileSums[((tok / kGroupTokens) * tiles + r / kTileRows) * kTileRows + r % kTileRows]
                        [tok % kGroupTokens];
}

template <int kind>
CWB_QUANT_AVX2 void floatTiles(const TileJob& job) {
    for (std::int64_t r0 = job.rowBegin; r0 < job.rowEnd; r0 += kPanelRows)
        panelTimesTokens<kind>(job, r0, std::min(kPanelRows, job.rowEnd - r0));
}

}  // namespace

void packTokensAvx2(const TileJob& job, std::int64_t groupBegin, std::int64_t groupEnd,
                    float* packed) {
    const std::int64_t n = job.cols;
    std::vector<float> zeros(job.tokens % kGroupTokens ? static_cast<std::size_t>(n) : 0);
    for (std::int64_t g = groupBegin; g < groupEnd; ++g) {
        const float* x[kGroupTokens];
        for (int t = 0; t < kGroupTokens; ++t) {
            const std::int64_t token = g * kGroupTokens + t;
            x[t] =
                token < job.tokens
                    ? reinterpret_cast<const float*>(job.activations + token * job.activationStride)
                    : zeros.data();
        }
        packGroup(x, n, packed + g * n * kGroupTokens);
    }
}

bool floatTilesAvx2(DType type, const TileJob& job) {
    switch (type) {
        case DType::F32:
            floatTiles<0>(job);
            return true;
        case DType::F16:
            floatTiles<1>(job);
            return true;
        case DType::BF16:
            floatTiles<2>(job);
            return true;
        default:
            return false;
    }
}

void halfRowToFloatAvx2(bool bf16, const std::byte* row, float* out, std::int64_t n) {
    if (bf16)
        toFloat32<2>(row, n, out);
    else
        toFloat32<1>(row, n, out);
}

}  // namespace cwb::quant::detail
