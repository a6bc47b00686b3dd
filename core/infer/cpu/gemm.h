// The one place that calls BLAS: a row-major SGEMM and control over BLAS's own threads,
// so that kernels (and a later non-OpenBLAS build) depend on this header only.
#pragma once

namespace cwb::cpu {

// C (m x n) = A (m x k) * B (k x n), or C += A * B when `accumulate`; row-major with
// leading dimensions lda, ldb, ldc.
void sgemm(int m, int n, int k, const float* a, int lda, const float* b, int ldb, float* c, int ldc,
           bool accumulate = false);
// C (m x n) = A (m x k) * B^T, B stored row-major as (n x k): products with row-major
// weight matrices [out, in] and attention scores Q K^T.
void sgemmNT(int m, int n, int k, const float* a, int lda, const float* b, int ldb, float* c,
             int ldc, bool accumulate = false);

// OpenBLAS's thread count is process-wide. Engines that run their own threads set it to 1
// (concurrent single-threaded calls are then safe); the whole-batch strategy sets it to its
// thread count. Both are cheap when nothing changes.
void setBlasThreads(int threads);
int blasThreads();

}  // namespace cwb::cpu
