// Dot products of F32, F16 and BF16 weight rows with float32 activations, converting the
// weights on the fly: a plain loop (the reference), AVX2 with F16C, and AVX-512.
#include <algorithm>
#include <vector>

#include "core/quant/fp16.h"
#include "core/quant/gemv_kernels.h"
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
    constexpr std::int64_t kValueBytes = kind == 0 ? 4 : 2;
    std::int64_t i = 0;
    for (; i + 64 <= n; i += 64) {
        // Generation reads the rows once, back to back: the next rows' bytes are asked for
        // ahead, past the mapped file's page boundaries where the hardware's prefetch stops.
        prefetchStream(w + i * kValueBytes, 64 * kValueBytes);
        for (int k = 0; k < 4; ++k)
            acc[k] = _mm512_fmadd_ps(loadW16<kind>(w, i + 16 * k), _mm512_loadu_ps(x + i + 16 * k),
                                     acc[k]);
    }
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
// (two AVX2 registers, one AVX-512 register). A tile of weight rows, widened to float32 a block
// of columns at a time into a panel, meets them: each row's value of a column is broadcast
// against the tokens' registers. Each row's sum runs over the columns in order, one fused
// multiply-add a column, so the numbers do not depend on the split between threads nor on the
// tile (AVX2 and AVX-512 give the same bits), though they come in another order than vecDot's.

namespace {

constexpr int kGroupTokens = static_cast<int>(kFloatGroupTokens);
// Columns per block: a block of a group's packed tokens (16 KB) and of a tile's rows stay in
// the first-level cache while the tile passes over it.
constexpr std::int64_t kBlockColumns = 256;
// Rows per panel: 48 KB of float32 for a block of columns (second-level cache).
constexpr std::int64_t kPanelRows = 48;

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

// Where a tile works: its first row in the panel (rows kBlockColumns apart), its first group
// of packed tokens (groups `groupStride` floats apart) and its sums (16 floats a row, groups
// `sumsStride` floats apart), over `n` columns.
struct TileArgs {
    const float* rows;
    const float* tokens;
    std::int64_t groupStride;
    float* sums;
    std::int64_t sumsStride;
    std::int64_t n;
};

CWB_QUANT_AVX2 inline void columnStep(__m256 x0, __m256 x1, const float* w, __m256& lo,
                                      __m256& hi) {
    const __m256 b = _mm256_broadcast_ss(w);
    lo = _mm256_fmadd_ps(x0, b, lo);
    hi = _mm256_fmadd_ps(x1, b, hi);
}

// AVX2: 6 rows against one group, 12 accumulators. Named accumulators: GCC keeps an array
// of them in memory and stores each on every column.
struct Avx2Tile {
    static constexpr int kRows = 6, kGroups = 1;
    CWB_QUANT_AVX2 static void run(const TileArgs& a, int /*groups*/) {
        float* s = a.sums;  // (a lambda here would lose the function's target attribute)
        __m256 c0 = _mm256_loadu_ps(s), c1 = _mm256_loadu_ps(s + 8), c2 = _mm256_loadu_ps(s + 16),
               c3 = _mm256_loadu_ps(s + 24), c4 = _mm256_loadu_ps(s + 32),
               c5 = _mm256_loadu_ps(s + 40), c6 = _mm256_loadu_ps(s + 48),
               c7 = _mm256_loadu_ps(s + 56), c8 = _mm256_loadu_ps(s + 64),
               c9 = _mm256_loadu_ps(s + 72), c10 = _mm256_loadu_ps(s + 80),
               c11 = _mm256_loadu_ps(s + 88);
        const float* w = a.rows;
        const float* x = a.tokens;
        for (std::int64_t i = 0; i < a.n; ++i, ++w, x += kGroupTokens) {
            const __m256 x0 = _mm256_loadu_ps(x), x1 = _mm256_loadu_ps(x + 8);
            columnStep(x0, x1, w, c0, c1);
            columnStep(x0, x1, w + kBlockColumns, c2, c3);
            columnStep(x0, x1, w + 2 * kBlockColumns, c4, c5);
            columnStep(x0, x1, w + 3 * kBlockColumns, c6, c7);
            columnStep(x0, x1, w + 4 * kBlockColumns, c8, c9);
            columnStep(x0, x1, w + 5 * kBlockColumns, c10, c11);
        }
        const __m256 c[2 * kRows] = {c0, c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, c11};
        for (int r = 0; r < kRows; ++r) {
            _mm256_storeu_ps(s + 16 * r, c[2 * r]);
            _mm256_storeu_ps(s + 16 * r + 8, c[2 * r + 1]);
        }
    }
};

// AVX-512: 12 rows against two groups (one register each), 24 accumulators: twice the
// multiply-adds of a broadcast and of a load of tokens as the AVX2 tile.
template <int G>
CWB_QUANT_AVX512 void avx512Tile(const TileArgs& a) {
    constexpr int R = 12;
    __m512 c[R][G];
#pragma GCC unroll 12
    for (int r = 0; r < R; ++r)
#pragma GCC unroll 2
        for (int g = 0; g < G; ++g) c[r][g] = _mm512_loadu_ps(a.sums + g * a.sumsStride + 16 * r);
    const float* w = a.rows;
    const float* x = a.tokens;
    for (std::int64_t i = 0; i < a.n; ++i, ++w, x += kGroupTokens) {
        __m512 xs[G];
#pragma GCC unroll 2
        for (int g = 0; g < G; ++g) xs[g] = _mm512_loadu_ps(x + g * a.groupStride);
#pragma GCC unroll 12
        for (int r = 0; r < R; ++r) {
            const __m512 b = _mm512_set1_ps(w[r * kBlockColumns]);
#pragma GCC unroll 2
            for (int g = 0; g < G; ++g) c[r][g] = _mm512_fmadd_ps(xs[g], b, c[r][g]);
        }
    }
#pragma GCC unroll 12
    for (int r = 0; r < R; ++r)
#pragma GCC unroll 2
        for (int g = 0; g < G; ++g) _mm512_storeu_ps(a.sums + g * a.sumsStride + 16 * r, c[r][g]);
}

struct Avx512Tile {
    static constexpr int kRows = 12, kGroups = 2;
    static void run(const TileArgs& a, int groups) {
        if (groups == 2)
            avx512Tile<2>(a);
        else
            avx512Tile<1>(a);
    }
};

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

// Rows [r0, r0 + rows) of the job times every token. The rows are widened a block of columns
// at a time into a panel (second-level cache), padded with zero rows to whole tiles; then the
// packed tokens of a tile's groups (first-level cache) meet every tile of the panel in turn.
// (The other way round, every group against one tile, reads the tokens from the second-level
// cache, 64 bytes for 12 multiply-adds.) Sums: 16 floats per row and group, groups apart.
template <int kind, class Tile>
CWB_QUANT_AVX2 void panelTimesTokens(const TileJob& job, std::int64_t r0, std::int64_t rows) {
    constexpr std::int64_t kValueBytes = kind == 0 ? 4 : 2;
    const std::int64_t n = job.cols;
    const std::int64_t groups = (job.tokens + kGroupTokens - 1) / kGroupTokens;
    const std::int64_t tiles = (rows + Tile::kRows - 1) / Tile::kRows;
    const std::int64_t padded = tiles * Tile::kRows;
    thread_local std::vector<float> panel, sums;
    panel.resize(static_cast<std::size_t>(padded * kBlockColumns));
    std::fill(panel.begin() + rows * kBlockColumns, panel.end(), 0.f);
    sums.assign(static_cast<std::size_t>(groups * padded * kGroupTokens), 0.f);
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
        for (std::int64_t g = 0; g < groups; g += Tile::kGroups)
            for (std::int64_t t = 0; t < tiles; ++t) {
                TileArgs a;
                a.rows = panel.data() + t * Tile::kRows * kBlockColumns;
                a.tokens = job.packedTokens + (g * n + i0) * kGroupTokens;
                a.groupStride = n * kGroupTokens;
                a.sums = sums.data() + (g * padded + t * Tile::kRows) * kGroupTokens;
                a.sumsStride = padded * kGroupTokens;
                a.n = columns;
                Tile::run(a, static_cast<int>(std::min<std::int64_t>(Tile::kGroups, groups - g)));
            }
    }
    for (std::int64_t tok = 0; tok < job.tokens; ++tok)
        for (std::int64_t r = 0; r < rows; ++r)
            job.y[tok * job.ldy + r0 + r] = sums[static_cast<std::size_t>(
                ((tok / kGroupTokens) * padded + r) * kGroupTokens + tok % kGroupTokens)];
}

template <int kind, class Tile>
CWB_QUANT_AVX2 void floatTiles(const TileJob& job) {
    for (std::int64_t r0 = job.rowBegin; r0 < job.rowEnd; r0 += kPanelRows)
        panelTimesTokens<kind, Tile>(job, r0, std::min(kPanelRows, job.rowEnd - r0));
}

template <class Tile>
bool floatTilesOf(DType type, const TileJob& job) {
    switch (type) {
        case DType::F32:
            floatTiles<0, Tile>(job);
            return true;
        case DType::F16:
            floatTiles<1, Tile>(job);
            return true;
        case DType::BF16:
            floatTiles<2, Tile>(job);
            return true;
        default:
            return false;
    }
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

bool floatTilesAvx2(DType type, const TileJob& job) { return floatTilesOf<Avx2Tile>(type, job); }

bool floatTilesAvx512(DType type, const TileJob& job) {
    return floatTilesOf<Avx512Tile>(type, job);
}

void halfRowToFloatAvx2(bool bf16, const std::byte* row, float* out, std::int64_t n) {
    if (bf16)
        toFloat32<2>(row, n, out);
    else
        toFloat32<1>(row, n, out);
}

}  // namespace cwb::quant::detail
