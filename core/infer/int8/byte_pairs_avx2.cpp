// The AVX2 byte-pair int8 product (see byte_pairs_avx2.h). A tile is 4 rows of A by 16
// columns of B (8 accumulators); the requantization follows int8_gemm.h's Requant rule
// with the same operations in the same order as gemmU8S8Requant's scalar loop.
#include "core/infer/int8/byte_pairs_avx2.h"

#include <algorithm>

#include "core/infer/int8/vector_target.h"

namespace cwb::int8::detail {
namespace {

constexpr int kTileRows = 4;

// What the requantization of 8 columns needs, loaded once for all rows of a tile; lanes past
// the last column are masked off.
struct ColumnTerms {
    bool full;  // all 8 lanes are columns: plain stores (masked ones are slow on AMD's cores)
    __m256i mask;
    __m256i sums, offsets;
    __m256 step, bias, scale, shift;
};

CWB_AVX2 inline __m256i laneMask(int columns) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(columns),
                              _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

CWB_AVX2 inline ColumnTerms columnTerms(const Requant& q, const PackedB& b, int j0, int columns) {
    ColumnTerms c;
    c.full = columns == 8;
    c.mask = laneMask(columns);
    c.sums = _mm256_maskload_epi32(b.columnSums.data() + j0, c.mask);
    c.offsets =
        q.colOffset ? _mm256_maskload_epi32(q.colOffset + j0, c.mask) : _mm256_setzero_si256();
    c.step = _mm256_maskload_ps(q.colStep + j0, c.mask);
    c.bias = q.bias ? _mm256_maskload_ps(q.bias + j0, c.mask) : _mm256_setzero_ps();
    c.scale = q.scale ? _mm256_maskload_ps(q.scale + j0, c.mask) : _mm256_setzero_ps();
    c.shift = q.scale ? _mm256_maskload_ps(q.shift + j0, c.mask) : _mm256_setzero_ps();
    return c;
}

// Row i, columns [j0, j0 + 8) of the requantized result from 8 int32 products.
CWB_AVX2 __attribute__((always_inline)) inline void requantStore(const Requant& q,
                                                                 const ColumnTerms& c, int i,
                                                                 int j0, __m256i acc) {
    __m256i t = _mm256_sub_epi32(acc, _mm256_mullo_epi32(_mm256_set1_epi32(q.rowZero[i]), c.sums));
    if (q.colOffset)
        t = _mm256_add_epi32(t, _mm256_mullo_epi32(_mm256_set1_epi32(q.rowCentred[i]), c.offsets));
    float* out = q.out + static_cast<long long>(i) * q.ldo + j0;
    __m256 y =
        _mm256_mul_ps(_mm256_mul_ps(_mm256_set1_ps(q.rowScale[i]), c.step), _mm256_cvtepi32_ps(t));
    if (q.accumulate) y = _mm256_add_ps(_mm256_maskload_ps(out, c.mask), y);
    if (q.finish) {
        if (q.bias) y = _mm256_add_ps(y, c.bias);
        if (q.scale) y = _mm256_add_ps(_mm256_mul_ps(y, c.scale), c.shift);
        if (q.relu) y = _mm256_max_ps(y, _mm256_setzero_ps());
    }
    if (c.full)
        _mm256_storeu_ps(out, y);
    else
        _mm256_maskstore_ps(out, c.mask, y);
}

// R rows of A from row0 by the 16 columns of `block` (`columns` of them real).
template <int R>
CWB_AVX2 void tile(const std::uint8_t* a, int lda, const PackedB& b, int block, int columns,
                   std::int32_t* c, int ldc, const Requant* q, int row0) {
    __m256i acc[R][2];
    for (int r = 0; r < R; ++r) acc[r][0] = acc[r][1] = _mm256_setzero_si256();
    const std::int8_t* w = b.block(block);
    const __m256i ones = _mm256_set1_epi16(1);
    for (int quad = 0; quad < b.quads(); ++quad) {
        const __m256i lo = _mm256_load_si256(reinterpret_cast<const __m256i*>(w + quad * 64));
        const __m256i hi = _mm256_load_si256(reinterpret_cast<const __m256i*>(w + quad * 64 + 32));
        for (int r = 0; r < R; ++r) {
            const __m256i av =
                _mm256_set1_epi32(loadQuad(a + static_cast<long long>(row0 + r) * lda + quad * 4));
            acc[r][0] =
                _mm256_add_epi32(acc[r][0], _mm256_madd_epi16(_mm256_maddubs_epi16(av, lo), ones));
            acc[r][1] =
                _mm256_add_epi32(acc[r][1], _mm256_madd_epi16(_mm256_maddubs_epi16(av, hi), ones));
        }
    }
    for (int h = 0; h < 2; ++h) {
        const int n = std::min(8, columns - 8 * h);
        if (n <= 0) break;
        const int j0 = 16 * block + 8 * h;
        if (q) {
            const ColumnTerms terms = columnTerms(*q, b, j0, n);
            for (int r = 0; r < R; ++r) requantStore(*q, terms, row0 + r, j0, acc[r][h]);
        } else {
            const __m256i mask = laneMask(n);
            for (int r = 0; r < R; ++r) {
                std::int32_t* out = c + static_cast<long long>(row0 + r) * ldc + j0;
                if (n == 8)
                    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out), acc[r][h]);
                else
                    _mm256_maskstore_epi32(out, mask, acc[r][h]);
            }
        }
    }
}

}  // namespace

void bytePairsAvx2(const std::uint8_t* a, int m, int lda, const PackedB& b, std::int32_t* c,
                   int ldc, const Requant* q) {
    const Requant* local = q;
    Requant copy;
    if (q) {  // a local copy: its flags provably do not change as results are stored
        copy = *q;
        local = &copy;
    }
    // A tile's rows of A stay in L1 while they meet every column block of B.
    const int blocks = b.nPadded / 16;
    int i = 0;
    for (; i + kTileRows <= m; i += kTileRows)
        for (int block = 0; block < blocks; ++block)
            tile<kTileRows>(a, lda, b, block, std::min(16, b.n - 16 * block), c, ldc, local, i);
    for (; i < m; ++i)
        for (int block = 0; block < blocks; ++block)
            tile<1>(a, lda, b, block, std::min(16, b.n - 16 * block), c, ldc, local, i);
}

}  // namespace cwb::int8::detail
