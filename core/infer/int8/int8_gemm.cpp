// uint8 x int8 -> int32 matrix products (see int8_gemm.h). The vector kernels are compiled
// with target attributes and chosen by a CPU check at run time, so a generic build still
// runs everywhere.
#include "core/infer/int8/int8_gemm.h"

#include <immintrin.h>

#include <algorithm>
#include <cstdlib>

#include "core/error.h"
#include "core/infer/int8/byte_pairs_avx2.h"
#include "core/infer/int8/vector_target.h"
#include "core/util/enum_names.h"
#include "core/util/vector_ops.h"

namespace cwb::int8 {
namespace {

constexpr int kRows = 4;  // rows of A per register tile
constexpr int kBlocks =
    4;  // 16-column blocks per register tile (64 columns): 16 accumulators, no spills

// The requantization's lanes on AVX-512 (requant_lanes.h).
struct VnniLanes {
    CWB_VECTOR_OPS(CWB_VNNI, 512, _mm512, si512, __mmask16, _mm512_cmp_ps_mask)
    CWB_VNNI static M maskOf(int columns) {
        return columns >= 16 ? M(0xffff) : M((1u << columns) - 1u);
    }
    CWB_VNNI static I loadI(const std::int32_t* p, M m) { return _mm512_maskz_loadu_epi32(m, p); }
    CWB_VNNI static F loadF(const float* p, M m) { return _mm512_maskz_loadu_ps(m, p); }
    template <typename Terms>
    CWB_VNNI static void storeOut(float* p, const Terms& c, F y) {
        _mm512_mask_storeu_ps(p, c.mask, y);
    }
};

}  // namespace
}  // namespace cwb::int8

#define CWB_REQUANT_TARGET CWB_VNNI
#define CWB_REQUANT_ISA VnniLanes
#include "core/infer/int8/requant_lanes.h"

namespace cwb::int8 {
namespace {

// R rows x V column blocks: R * V accumulators, one broadcast of 4 bytes of A per row and
// one load of 64 bytes of B per block for each 4 rows of k.
// Requantizes and stores an R x V tile of products, column block by column block.
template <int R, int V>
CWB_VNNI inline void requantTile(const Requant& shared, const PackedB& b, int block0, int columns,
                                 int row0, const __m512i (&acc)[R][V]) {
    const Requant q =
        shared;  // a local copy: its flags provably do not change as results are stored
    for (int v = 0; v < V; ++v) {
        const int j0 = 16 * (block0 + v);
        const ColumnTerms c = columnTerms(q, b, j0, columns - 16 * v);
        for (int r = 0; r < R; ++r) requantStore(q, c, row0 + r, j0, acc[r][v]);
    }
}

template <int R, int V>
CWB_VNNI void tileVnni(const std::uint8_t* a, int lda, const PackedB& b, int block0,
                       std::int32_t* c, int ldc, int columns, const Requant* q, int row0) {
    __m512i acc[R][V];
    for (int r = 0; r < R; ++r)
        for (int v = 0; v < V; ++v) acc[r][v] = _mm512_setzero_si512();
    const std::int8_t* w[V];
    for (int v = 0; v < V; ++v) w[v] = b.block(block0 + v);
    const int quads = b.quads();
    for (int q = 0; q < quads; ++q) {
        __m512i bv[V];
        for (int v = 0; v < V; ++v) bv[v] = _mm512_load_si512(w[v] + q * 64);
        for (int r = 0; r < R; ++r) {
            const __m512i av =
                _mm512_set1_epi32(loadQuad(a + static_cast<long long>(r) * lda + q * 4));
            for (int v = 0; v < V; ++v) acc[r][v] = _mm512_dpbusd_epi32(acc[r][v], av, bv[v]);
        }
    }
    if (q) {
        requantTile<R, V>(*q, b, block0, columns, row0, acc);
        return;
    }
    for (int r = 0; r < R; ++r)
        for (int v = 0; v < V; ++v) {
            const int left = columns - 16 * v;
            const __mmask16 m = left >= 16 ? __mmask16(0xffff) : __mmask16((1u << left) - 1u);
            _mm512_mask_storeu_epi32(c + static_cast<long long>(r) * ldc + 16 * v, m, acc[r][v]);
        }
}

// AVX2 without VNNI: bytes widened to 16 bits and multiplied pairwise with vpmaddwd, which
// cannot saturate (vpmaddubsw could). 8 columns per ymm; hadd leaves columns in the order
// 0 1 4 5 | 2 3 6 7, undone at the store.
template <int R>
CWB_AVX2 void tileAvx2(const std::uint8_t* a, int lda, const PackedB& b, int block, std::int32_t* c,
                       int ldc, int columns) {
    __m256i acc[R][2];
    for (int r = 0; r < R; ++r) acc[r][0] = acc[r][1] = _mm256_setzero_si256();
    const std::int8_t* w = b.block(block);
    const int quads = b.quads();
    for (int q = 0; q < quads; ++q) {
        __m256i wv[2][2];
        for (int h = 0; h < 2; ++h) {  // columns 0-7 and 8-15
            const __m256i raw =
                _mm256_load_si256(reinterpret_cast<const __m256i*>(w + q * 64 + 32 * h));
            wv[h][0] =
                _mm256_cvtepi8_epi16(_mm256_castsi256_si128(raw));  // columns 0-3 of the half
            wv[h][1] = _mm256_cvtepi8_epi16(_mm256_extracti128_si256(raw, 1));  // columns 4-7
        }
        for (int r = 0; r < R; ++r) {
            const __m256i av = _mm256_cvtepu8_epi16(
                _mm_set1_epi32(loadQuad(a + static_cast<long long>(r) * lda + q * 4)));
            for (int h = 0; h < 2; ++h) {
                const __m256i lo = _mm256_madd_epi16(wv[h][0], av);
                const __m256i hi = _mm256_madd_epi16(wv[h][1], av);
                acc[r][h] = _mm256_add_epi32(acc[r][h], _mm256_hadd_epi32(lo, hi));
            }
        }
    }
    const __m256i order = _mm256_setr_epi32(0, 1, 4, 5, 2, 3, 6, 7);
    for (int r = 0; r < R; ++r)
        for (int h = 0; h < 2; ++h) {
            alignas(32) std::int32_t lanes[8];
            _mm256_store_si256(reinterpret_cast<__m256i*>(lanes),
                               _mm256_permutevar8x32_epi32(acc[r][h], order));
            const int n = std::min(8, columns - 8 * h);
            for (int j = 0; j < n; ++j) c[static_cast<long long>(r) * ldc + 8 * h + j] = lanes[j];
        }
}

template <int R>
void vnniRows(const std::uint8_t* a, int lda, const PackedB& b, std::int32_t* c, int ldc,
              const Requant* q, int row0) {
    const int blocks = b.nPadded / 16;
    for (int block = 0; block < blocks; block += kBlocks) {
        const int v = std::min(kBlocks, blocks - block);
        const int columns = std::min(b.n - 16 * block, 16 * v);
        std::int32_t* cc = c ? c + 16 * block : nullptr;
        switch (v) {
            case 4:
                tileVnni<R, 4>(a, lda, b, block, cc, ldc, columns, q, row0);
                break;
            case 3:
                tileVnni<R, 3>(a, lda, b, block, cc, ldc, columns, q, row0);
                break;
            case 2:
                tileVnni<R, 2>(a, lda, b, block, cc, ldc, columns, q, row0);
                break;
            default:
                tileVnni<R, 1>(a, lda, b, block, cc, ldc, columns, q, row0);
                break;
        }
    }
}

template <int R>
void avx2Rows(const std::uint8_t* a, int lda, const PackedB& b, std::int32_t* c, int ldc) {
    for (int block = 0; block < b.nPadded / 16; ++block)
        tileAvx2<R>(a, lda, b, block, c + 16 * block, ldc, std::min(16, b.n - 16 * block));
}

}  // namespace

bool isaAvailable(Isa isa) {
    switch (isa) {
        case Isa::Scalar:
            return true;
        case Isa::Avx2:
            return __builtin_cpu_supports("avx2");
        case Isa::Avx512Vnni:
            return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                   __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512vnni");
    }
    return false;
}

Isa bestIsa() {
    if (isaAvailable(Isa::Avx512Vnni)) return Isa::Avx512Vnni;
    if (isaAvailable(Isa::Avx2)) return Isa::Avx2;
    return Isa::Scalar;
}

std::string isaName(Isa isa) {
    static constexpr EnumName<Isa> kNames[]{
        {Isa::Scalar, "scalar"}, {Isa::Avx2, "avx2"}, {Isa::Avx512Vnni, "avx512-vnni"}};
    return nameOf(kNames, isa);
}

PackedB packB(const std::int8_t* b, int k, int n) {
    PackedB p;
    p.k = k;
    p.n = n;
    p.kPadded = (k + 3) / 4 * 4;
    p.nPadded = (n + 15) / 16 * 16;
    p.lines.assign(static_cast<std::size_t>(p.nPadded / 16) * p.quads(), PackedB::Line{});
    p.columnSums.assign(static_cast<std::size_t>(n), 0);
    const int quads = p.quads();
    for (int kk = 0; kk < k; ++kk)
        for (int j = 0; j < n; ++j) {
            const std::int8_t v = b[static_cast<std::size_t>(kk) * n + j];
            const int block = j / 16, col = j % 16, quad = kk / 4, lane = kk % 4;
            p.lines[static_cast<std::size_t>(block) * quads + quad].bytes[col * 4 + lane] = v;
            p.columnSums[j] += v;
            p.maxAbs = std::max(p.maxAbs, std::abs(static_cast<int>(v)));
        }
    return p;
}

void gemmU8S8Ref(const std::uint8_t* a, int m, int k, int lda, const std::int8_t* b, int n,
                 std::int32_t* c, int ldc) {
    for (int i = 0; i < m; ++i)
        for (int j = 0; j < n; ++j) {
            std::int32_t sum = 0;
            for (int kk = 0; kk < k; ++kk)
                sum += static_cast<std::int32_t>(a[static_cast<long long>(i) * lda + kk]) *
                       b[static_cast<long long>(kk) * n + j];
            c[static_cast<long long>(i) * ldc + j] = sum;
        }
}

void gemmU8S8(Isa isa, const std::uint8_t* a, int m, int lda, const PackedB& b, std::int32_t* c,
              int ldc) {
    if (!isaAvailable(isa))
        throw Error("the " + isaName(isa) + " int8 kernel needs a CPU that has it; use " +
                    isaName(bestIsa()));
    if (lda < b.kPadded)
        throw Error("internal: int8 GEMM operand rows shorter than the padded depth");
    if (isa == Isa::Scalar) {
        // Unpacked view of the packed data, one column at a time.
        for (int i = 0; i < m; ++i)
            for (int j = 0; j < b.n; ++j) {
                const std::int8_t* w = b.block(j / 16) + (j % 16) * 4;
                std::int32_t sum = 0;
                for (int q = 0; q < b.quads(); ++q)
                    for (int lane = 0; lane < 4; ++lane)
                        sum += static_cast<std::int32_t>(
                                   a[static_cast<long long>(i) * lda + q * 4 + lane]) *
                               w[q * 64 + lane];
                c[static_cast<long long>(i) * ldc + j] = sum;
            }
        return;
    }
    if (isa == Isa::Avx2 && detail::bytePairsExact(b))
        return detail::bytePairsAvx2(a, m, lda, b, c, ldc, nullptr);
    int i = 0;
    for (; i + kRows <= m; i += kRows) {
        const auto* ai = a + static_cast<long long>(i) * lda;
        auto* ci = c + static_cast<long long>(i) * ldc;
        if (isa == Isa::Avx512Vnni)
            vnniRows<kRows>(ai, lda, b, ci, ldc, nullptr, 0);
        else
            avx2Rows<kRows>(ai, lda, b, ci, ldc);
    }
    for (; i < m; ++i) {
        const auto* ai = a + static_cast<long long>(i) * lda;
        auto* ci = c + static_cast<long long>(i) * ldc;
        if (isa == Isa::Avx512Vnni)
            vnniRows<1>(ai, lda, b, ci, ldc, nullptr, 0);
        else
            avx2Rows<1>(ai, lda, b, ci, ldc);
    }
}

void gemmU8S8Requant(Isa isa, const std::uint8_t* a, int m, int lda, const PackedB& b,
                     const Requant& q) {
    if (isa == Isa::Avx512Vnni) {
        if (!isaAvailable(isa))
            throw Error("the avx512-vnni int8 kernel needs a CPU that has it; use " +
                        isaName(bestIsa()));
        int i = 0;
        for (; i + kRows <= m; i += kRows)
            vnniRows<kRows>(a + static_cast<long long>(i) * lda, lda, b, nullptr, 0, &q, i);
        for (; i < m; ++i)
            vnniRows<1>(a + static_cast<long long>(i) * lda, lda, b, nullptr, 0, &q, i);
        return;
    }
    if (isa == Isa::Avx2 && detail::bytePairsExact(b) && isaAvailable(isa))
        return detail::bytePairsAvx2(a, m, lda, b, nullptr, 0, &q);
    // Other ISAs: the int32 products a few rows at a time, then the same arithmetic in scalar.
    constexpr int kStrip = 64;
    std::vector<std::int32_t> c(static_cast<std::size_t>(kStrip) * b.n);
    for (int i0 = 0; i0 < m; i0 += kStrip) {
        const int rows = std::min(kStrip, m - i0);
        gemmU8S8(isa, a + static_cast<long long>(i0) * lda, rows, lda, b, c.data(), b.n);
        for (int r = 0; r < rows; ++r) {
            const int i = i0 + r;
            float* out = q.out + static_cast<long long>(i) * q.ldo;
            for (int j = 0; j < b.n; ++j) {
                std::int32_t t =
                    c[static_cast<std::size_t>(r) * b.n + j] - q.rowZero[i] * b.columnSums[j];
                if (q.colOffset) t += q.colOffset[j] * q.rowCentred[i];
                float y = (q.rowScale[i] * q.colStep[j]) * static_cast<float>(t);
                if (q.accumulate) y = out[j] + y;
                if (q.finish) {
                    if (q.bias) y += q.bias[j];
                    if (q.scale) y = y * q.scale[j] + q.shift[j];
                    if (q.relu) y = std::max(y, 0.f);
                }
                out[j] = y;
            }
        }
    }
}

}  // namespace cwb::int8
