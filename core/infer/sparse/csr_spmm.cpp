// CSR sparse x dense products (see csr_spmm.h).
#include "core/infer/sparse/csr_spmm.h"

#include <immintrin.h>

#include <algorithm>

#define CWB_AVX512 __attribute__((target("avx512f")))

namespace cwb::sparse {
namespace {

// One output row over 64 activations at a time: four accumulators, one broadcast and four
// loads per nonzero.
CWB_AVX512 void rowAvx512(const CsrMatrix& a, int row, const float* xT, int m, float* y) {
    const int begin = a.rowStart[row], end = a.rowStart[row + 1];
    int j = 0;
    for (; j + 64 <= m; j += 64) {
        __m512 acc0 = _mm512_setzero_ps(), acc1 = acc0, acc2 = acc0, acc3 = acc0;
        for (int p = begin; p < end; ++p) {
            const __m512 v = _mm512_set1_ps(a.value[p]);
            const float* x = xT + static_cast<long long>(a.column[p]) * m + j;
            acc0 = _mm512_fmadd_ps(v, _mm512_loadu_ps(x), acc0);
            acc1 = _mm512_fmadd_ps(v, _mm512_loadu_ps(x + 16), acc1);
            acc2 = _mm512_fmadd_ps(v, _mm512_loadu_ps(x + 32), acc2);
            acc3 = _mm512_fmadd_ps(v, _mm512_loadu_ps(x + 48), acc3);
        }
        _mm512_storeu_ps(y + j, acc0);
        _mm512_storeu_ps(y + j + 16, acc1);
        _mm512_storeu_ps(y + j + 32, acc2);
        _mm512_storeu_ps(y + j + 48, acc3);
    }
    for (; j < m; j += 16) {
        const __mmask16 mask = m - j >= 16 ? __mmask16(0xffff) : __mmask16((1u << (m - j)) - 1u);
        __m512 acc = _mm512_setzero_ps();
        for (int p = begin; p < end; ++p)
            acc = _mm512_fmadd_ps(
                _mm512_set1_ps(a.value[p]),
                _mm512_maskz_loadu_ps(mask, xT + static_cast<long long>(a.column[p]) * m + j), acc);
        _mm512_mask_storeu_ps(y + j, mask, acc);
    }
}

void rowScalar(const CsrMatrix& a, int row, const float* xT, int m, float* y) {
    std::fill(y, y + m, 0.f);
    for (int p = a.rowStart[row]; p < a.rowStart[row + 1]; ++p) {
        const float v = a.value[p];
        const float* x = xT + static_cast<long long>(a.column[p]) * m;
        for (int j = 0; j < m; ++j) y[j] += v * x[j];
    }
}

}  // namespace

CsrMatrix csrFromKernel(const float* w, int k, int n) {
    CsrMatrix a;
    a.rows = n;
    a.cols = k;
    a.rowStart.reserve(static_cast<std::size_t>(n) + 1);
    a.rowStart.push_back(0);
    for (int j = 0; j < n; ++j) {
        for (int i = 0; i < k; ++i) {
            const float v = w[static_cast<long long>(i) * n + j];
            if (v == 0.f) continue;
            a.column.push_back(i);
            a.value.push_back(v);
        }
        a.rowStart.push_back(static_cast<std::int32_t>(a.value.size()));
    }
    return a;
}

void spmm(const CsrMatrix& a, const float* xT, int m, float* yT) {
    static const bool avx512 = __builtin_cpu_supports("avx512f");
    for (int row = 0; row < a.rows; ++row) {
        float* y = yT + static_cast<long long>(row) * m;
        if (avx512)
            rowAvx512(a, row, xT, m, y);
        else
            rowScalar(a, row, xT, m, y);
    }
}

void spmmRef(const CsrMatrix& a, const float* x, int m, float* y) {
    for (int i = 0; i < m; ++i)
        for (int row = 0; row < a.rows; ++row) {
            double sum = 0.0;
            for (int p = a.rowStart[row]; p < a.rowStart[row + 1]; ++p)
                sum += static_cast<double>(a.value[p]) *
                       x[static_cast<long long>(i) * a.cols + a.column[p]];
            y[static_cast<long long>(i) * a.rows + row] = static_cast<float>(sum);
        }
}

void transpose(const float* in, long long rows, long long cols, float* out) {
    constexpr long long kTile = 32;  // keeps both sides of a tile in L1
    for (long long r0 = 0; r0 < rows; r0 += kTile)
        for (long long c0 = 0; c0 < cols; c0 += kTile)
            for (long long r = r0; r < std::min(rows, r0 + kTile); ++r)
                for (long long c = c0; c < std::min(cols, c0 + kTile); ++c)
                    out[c * rows + r] = in[r * cols + c];
}

}  // namespace cwb::sparse
