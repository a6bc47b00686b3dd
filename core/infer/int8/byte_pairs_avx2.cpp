// The AVX2 byte-pair int8 product (see byte_pairs_avx2.h). A tile is 4 rows of A by 16
// columns of B (8 accumulators); the requantization is requant_lanes.h's.
#include "core/infer/int8/byte_pairs_avx2.h"

#include <algorithm>

#include "core/infer/int8/vector_target.h"
#include "core/util/vector_ops.h"

namespace cwb::int8::detail {
namespace {

constexpr int kTileRows = 4;

CWB_AVX2 inline __m256 laneMask(int columns) {
    return _mm256_castsi256_ps(
        _mm256_cmpgt_epi32(_mm256_set1_epi32(columns), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7)));
}

// The requantization's lanes on AVX2 (requant_lanes.h).
struct Avx2Lanes {
    CWB_VECTOR_OPS(CWB_AVX2, 256, _mm256, si256, __m256, _mm256_cmp_ps)
    CWB_AVX2 static M maskOf(int columns) { return laneMask(columns); }
    CWB_AVX2 static I loadI(const std::int32_t* p, M m) {
        return _mm256_maskload_epi32(p, _mm256_castps_si256(m));
    }
    CWB_AVX2 static F loadF(const float* p, M m) {
        return _mm256_maskload_ps(p, _mm256_castps_si256(m));
    }
    // Whole registers with plain stores: masked stores are slow on AMD's cores.
    template <typename Terms>
    CWB_AVX2 static void storeOut(float* p, const Terms& c, F y) {
        if (c.full)
            _mm256_storeu_ps(p, y);
        else
            _mm256_maskstore_ps(p, _mm256_castps_si256(c.mask), y);
    }
};

}  // namespace
}  // namespace cwb::int8::detail

#define CWB_REQUANT_TARGET CWB_AVX2
#define CWB_REQUANT_ISA detail::Avx2Lanes
#include "core/infer/int8/requant_lanes.h"

namespace cwb::int8::detail {
namespace {

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
            const __m256i mask = _mm256_castps_si256(laneMask(n));
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
