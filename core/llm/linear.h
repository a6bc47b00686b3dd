// The one seam through which every matrix product of a language model goes: a weight matrix
// [out, in] in the dtype its file (or the compressor) gave it, times a batch of activation
// rows. Block formats stay packed and are multiplied by core/quant's packed products, with
// the activations quantized once per call to the Q8 format llama.cpp pairs with each (Q8_0,
// Q8_1 or Q8_K). Plain types (F32, F16, BF16) go through core/quant's float rows: dot
// products for a token or three, AVX2 tiles of rows converted to float32 a block at a time
// for a batch (SGEMM on converted tiles where the AVX-512 family is active). Q8_K weights (the
// workbench's alpha grids, see compact_matrix.h) are converted a tile of rows at a time and
// multiplied by SGEMM. Nothing converts a whole matrix.
#pragma once

#include <span>

#include "core/model/tensor.h"
#include "core/util/worker_pool.h"

namespace cwb {

// True when linear() can multiply by a matrix of this dtype.
bool linearSupports(DType type);

// y[t * out + o] = sum_i W[o, i] * x[t * in + i] for t < tokens, o < out, where W is a 2-D
// tensor [out, in]. Each output is computed by the same code whatever the thread count.
// `interleaved`: Q4_0 and Q4_K weights hold quant::interleaveRows' layout (other dtypes: no
// effect).
void linear(const Tensor& weight, const float* x, int tokens, float* y, WorkerPool& pool,
            bool interleaved = false);

// linear() of several weights [out_i, in] with the same activations, y_i for weights_i:
// the activations are quantized once and a token's products are one job for the pool where
// the weights share a dtype (q, k and v; gate and up), otherwise one linear() each. The
// numbers are linear()'s.
void linearGroup(std::span<const Tensor* const> weights, const float* x, int tokens,
                 std::span<float* const> ys, WorkerPool& pool, bool interleaved = false);

// A copy of a Q4_0 or Q4_K matrix [out, in] in quant::interleaveRows' layout, in owned
// memory on 2 MB pages (HugePageStorage), for generation's product where the active kernels
// have it (quant::hasInterleavedRows).
Tensor interleavedRows(const Tensor& weight);
// A copy of any tensor as it is, in owned memory on 2 MB pages.
Tensor hugePageCopy(const Tensor& weight);

// Row r of a 2-D tensor [rows, cols] of any weight dtype as float32 (an embedding lookup).
void tensorRowToFloat(const Tensor& matrix, long long row, float* out);

}  // namespace cwb
