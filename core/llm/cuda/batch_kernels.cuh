// The element-wise steps of the batched prefill (LlamaRunner::prefillBatch) on the GPU, with
// 16-bit activations (f16, or bf16 where `bf16` is set) between the products: the residual
// stream stays float32, every step computes in float32 and rounds once when it stores.
#pragma once

#include <cuda_runtime.h>

#include "core/llm/llama_config.h"

namespace cwb::cudallm {

// out[r, :] = weight * x[r, :] / sqrt(mean(x[r, :]^2) + eps), x float32, out 16-bit.
void rmsNorm16(const float* x, const float* weight, int rows, int width, float eps, void* out,
               bool bf16, cudaStream_t stream);

// Rotates `heads` heads of each row (`stride` values apart) of sequences of `length` rows at
// positions row % length, with the tables cos/sin [capacity, headDim / 2].
void rope16(void* rows, long long count, int length, int stride, int heads, int headDim,
            const float* cosTable, const float* sinTable, RopeLayout layout, bool bf16,
            cudaStream_t stream);

// vt[s, h, d, t] = v[s * length + t, h * headDim + d] for t < length, 0 up to paddedLength:
// the values as the attention kernel reads them.
void transposeValues(const void* v, int sequences, int length, int paddedLength, int kvHeads,
                     int headDim, void* vt, bool bf16, cudaStream_t stream);

// gate = silu(gate) * up, element-wise on 16-bit arrays.
void swiglu16(void* gate, const void* up, long long n, bool bf16, cudaStream_t stream);

}  // namespace cwb::cudallm
