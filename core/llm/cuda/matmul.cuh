// y = x W^T on the GPU for a DeviceMatrix W [out, in] and float32 activation rows x [n, in]
// (core/llm/linear.h's contract). A few rows (generation) go through matrix-vector kernels that
// read each weight once: int8 dot products (dp4a) on the packed codes against activations
// quantized to int8 per 32 values, or float32 products for plain types. A batch (prefill) goes
// through cuBLAS on tensor cores: block formats are widened to f16 a matrix at a time; bf16
// activations are split into two bf16 terms (hi + lo) so they keep about 16 bits.
#pragma once

#include "core/llm/cuda/device_matrix.cuh"

namespace cwb::cudallm {

// Scratch shared by the products of one runner; grows to the largest call.
struct MatmulScratch {
    DeviceBuffer xq, xd, xs;  // quantized activations: int8 codes, float scales, int sums
    DeviceBuffer widened;     // a block-format matrix as f16
    DeviceBuffer xHalf;       // activations as f16 or bf16 (hi then lo)
};

// Rows of activations at or under this go through the matrix-vector kernels.
constexpr int kMatvecRows = 8;

// With `accumulate`, y += x W^T (the residual sum in the same pass).
void deviceLinear(const DeviceMatrix& w, const float* x, int n, float* y, bool accumulate,
                  MatmulScratch& scratch, cublasHandle_t blas, cudaStream_t stream);

// Whether deviceLinear16 takes weights of `type` (all but F32). Their activations are bf16 for
// BF16 weights and f16 for the others (block formats are widened to f16 for the product).
bool batchesIn16Bits(DType type);

// y = x W^T (+ beta y) for 16-bit activation rows x [n, w.cols] of the weights' kind (see
// batchesIn16Bits), on tensor cores with float32 sums: y float32 where yFloat, else 16-bit of
// the same kind (beta 0).
void deviceLinear16(const DeviceMatrix& w, const void* x, int n, void* y, bool yFloat, float beta,
                    MatmulScratch& s, cublasHandle_t blas, cudaStream_t stream);

// Row `row` of every token's id: out[t, :] = W[ids[t], :] as float32 (embedding lookup).
void deviceGatherRows(const DeviceMatrix& w, const int* ids, int n, float* out,
                      cudaStream_t stream);

}  // namespace cwb::cudallm
