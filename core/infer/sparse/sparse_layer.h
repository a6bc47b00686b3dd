// Dense and Conv2D layers on CSR kernels: activations are turned input-major (a transpose
// for Dense, patches written input-major for Conv2D), multiplied with csr_spmm's kernel and
// turned back, then the int8 layers' float epilogue is applied.
#pragma once

#include <vector>

#include "core/infer/epilogue.h"
#include "core/infer/sparse/csr_spmm.h"
#include "core/infer/window.h"

namespace cwb::sparse {

struct SparseScratch {
    std::vector<float> xT, yT;
};

// Dense on `rows` rows of a.cols floats -> rows x a.rows floats.
void denseSparse(const CsrMatrix& a, const Epilogue& epilogue, const float* in, long long rows,
                 float* out, SparseScratch& scratch);

// Conv2D on `batch` channels_last images of `window`.
void conv2dSparse(const Window2D& window, const CsrMatrix& a, const Epilogue& epilogue,
                  const float* in, int batch, float* out, SparseScratch& scratch);

}  // namespace cwb::sparse
