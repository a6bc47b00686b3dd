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

// Debian 12's OpenBLAS (0.3.21) picks its kernels by CPU model and does not know the newest
// Xeons: it then runs its SSE3 "Prescott" kernels (17 GFLOP/s of SGEMM on one core of an
// AVX-512 Xeon VM, 76 with its SkylakeX ones). The kernels can only be chosen before the
// library loads, by OPENBLAS_CORETYPE; so where OpenBLAS fell back to Prescott on a CPU with
// AVX-512 or AVX2 and the variable is unset, this starts the program again (the same
// executable and arguments) with it naming the matching kernels. Call it first thing in
// main(), before any thread starts; it returns when there is nothing to do or the restart
// failed (the program then runs as it would have).
void restartWithFasterBlas();

}  // namespace cwb::cpu
