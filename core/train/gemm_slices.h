// Matrix products for training: C = A B (+ C) with row-major operands, the rows of C split
// into fixed slices over our threads, each slice one single-threaded SGEMM. Splitting
// rows (never the summed dimension) keeps results deterministic for a thread count, and
// our fork-join threads stay well-behaved on a busy machine where OpenBLAS's own spinning
// workers do not. Training runs with OpenBLAS set to one thread (BlasThreadsScope).
#pragma once

namespace cwb::train {

// transA: A is stored k x m (use its transpose); transB: B is stored n x k.
// beta is 0 (overwrite C) or 1 (accumulate into C).
void gemmRows(bool transA, bool transB, int m, int n, int k, const float* a, int lda,
              const float* b, int ldb, float beta, float* c, int ldc, int threads);

// Sets OpenBLAS's process-wide thread count for a scope and restores it after.
class BlasThreadsScope {
public:
    explicit BlasThreadsScope(int threads);
    ~BlasThreadsScope();
    BlasThreadsScope(const BlasThreadsScope&) = delete;
    BlasThreadsScope& operator=(const BlasThreadsScope&) = delete;

private:
    int m_saved;
};

}  // namespace cwb::train
