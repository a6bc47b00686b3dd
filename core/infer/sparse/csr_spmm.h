// Sparse kernels for pruned layers: the kernel (k x n) stored as CSR of its transpose (one
// row per output channel, listing the nonzero inputs), multiplied with activations laid out
// input-major (k x m), so each nonzero is one multiply-add over a contiguous run of m
// activations. It does fewer multiply-adds than a dense product, but reuses each loaded
// activation once instead of across many outputs: it wins only at high sparsity (the
// engine measures, it does not assume).
#pragma once

#include <cstdint>
#include <vector>

namespace cwb::sparse {

struct CsrMatrix {
    int rows = 0;                        // output channels (n)
    int cols = 0;                        // inputs (k)
    std::vector<std::int32_t> rowStart;  // rows + 1
    std::vector<std::int32_t> column;
    std::vector<float> value;

    long long nonzeros() const { return static_cast<long long>(value.size()); }
};

// CSR of the transpose of w (k x n, row-major): exact zeros are dropped.
CsrMatrix csrFromKernel(const float* w, int k, int n);

// yT (n x m) = W^T xT, with xT (k x m) and yT row-major; m is the row length of both.
void spmm(const CsrMatrix& a, const float* xT, int m, float* yT);
// Reference: y (m x n) = x (m x k) * W, plain loops over the nonzeros.
void spmmRef(const CsrMatrix& a, const float* x, int m, float* y);

// out (cols x rows) = in (rows x cols) transposed.
void transpose(const float* in, long long rows, long long cols, float* out);

}  // namespace cwb::sparse
