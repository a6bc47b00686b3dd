// Row-sliced SGEMM (see gemm_slices.h).
#include "core/train/gemm_slices.h"

#include <cblas.h>

#include "core/util/parallel.h"

namespace cwb::train {

void gemmRows(bool transA, bool transB, int m, int n, int k, const float* a, int lda,
              const float* b, int ldb, float beta, float* c, int ldc, int threads) {
    if (m <= 0 || n <= 0) return;
    // A thread start costs about 0.1 ms here, a few million multiply-adds; below ~8M the
    // product runs on the calling thread alone.
    constexpr double kMinParallelMacs = 8e6;
    const double macs = double(m) * n * k;
    const int slices = macs < kMinParallelMacs ? 1 : threads;
    auto run = [&](long long begin, long long end, int) {
        const float* aRows = transA ? a + begin : a + begin * lda;
        cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans,
                    transB ? CblasTrans : CblasNoTrans, static_cast<int>(end - begin), n, k, 1.f,
                    aRows, lda, b, ldb, beta, c + begin * ldc, ldc);
    };
    if (slices <= 1)
        run(0, m, 0);
    else
        parallelFor(m, slices, run);
}

BlasThreadsScope::BlasThreadsScope(int threads) : m_saved(openblas_get_num_threads()) {
    if (m_saved != threads) openblas_set_num_threads(threads);
}

BlasThreadsScope::~BlasThreadsScope() {
    if (openblas_get_num_threads() != m_saved) openblas_set_num_threads(m_saved);
}

}  // namespace cwb::train
