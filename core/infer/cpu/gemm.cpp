// SGEMM through OpenBLAS (see gemm.h).
#include "core/infer/cpu/gemm.h"

#include <cblas.h>

namespace cwb::cpu {

namespace {

void gemm(CBLAS_TRANSPOSE transB, int m, int n, int k, const float* a, int lda, const float* b,
          int ldb, float* c, int ldc, bool accumulate) {
    if (m <= 0 || n <= 0) return;
    if (k <= 0) {  // an empty sum; BLAS implementations disagree on whether they touch C then
        if (!accumulate)
            for (int i = 0; i < m; ++i)
                for (int j = 0; j < n; ++j) c[static_cast<long long>(i) * ldc + j] = 0.f;
        return;
    }
    cblas_sgemm(CblasRowMajor, CblasNoTrans, transB, m, n, k, 1.f, a, lda, b, ldb,
                accumulate ? 1.f : 0.f, c, ldc);
}

}  // namespace

void sgemm(int m, int n, int k, const float* a, int lda, const float* b, int ldb, float* c, int ldc,
           bool accumulate) {
    gemm(CblasNoTrans, m, n, k, a, lda, b, ldb, c, ldc, accumulate);
}

void sgemmNT(int m, int n, int k, const float* a, int lda, const float* b, int ldb, float* c,
             int ldc, bool accumulate) {
    gemm(CblasTrans, m, n, k, a, lda, b, ldb, c, ldc, accumulate);
}

void setBlasThreads(int threads) {
    if (openblas_get_num_threads() != threads) openblas_set_num_threads(threads);
}

int blasThreads() { return openblas_get_num_threads(); }

}  // namespace cwb::cpu
