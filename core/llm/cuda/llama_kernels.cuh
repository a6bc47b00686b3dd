// The element-wise and attention steps of the Llama pass on the GPU (core/llm/cuda), float32
// throughout, in the same order of operations as the CPU's LlamaForward.
#pragma once

#include <cuda_runtime.h>

#include "core/llm/llama_config.h"

namespace cwb::cudallm {

// out[r, :] = weight * x[r, :] / sqrt(mean(x[r, :]^2) + eps) for r < rows.
void rmsNorm(const float* x, const float* weight, int rows, int width, float eps, float* out,
             cudaStream_t stream);

// Rotates `heads` heads of `tokens` rows (`stride` floats apart) at positions *position + t,
// with the angles' tables cos/sin [capacity, headDim / 2]. Positions are read on the device, so
// that a captured graph serves every step of generation.
void rope(float* rows, int tokens, int stride, int heads, int headDim, const int* position,
          const float* cosTable, const float* sinTable, RopeLayout layout, cudaStream_t stream);

// cache[*position + t, :] = rows[t, :] for t < tokens, rows of `width` floats.
void storeRows(const float* rows, int tokens, int width, const int* position, float* cache,
               cudaStream_t stream);

struct AttentionArgs {
    const float* q;  // [tokens, heads * headDim]
    const float* keys;
    const float* values;        // the layer's cache [capacity, kvHeads * headDim]
    float* out;                 // [tokens, heads * headDim]
    float* scratch;             // scores of the one-query kernel: [heads, tokens, capacity]
    const int* devicePosition;  // = position, read by the one-query kernel on the device
    int tokens, position, capacity, heads, kvHeads, headDim;
};

// Causal grouped-query attention of `tokens` queries at positions position ... against the
// cache's first position + tokens keys. Throws cwb::Error for a head size without a kernel.
void attention(const AttentionArgs& args, cudaStream_t stream);
// Floats of scratch attention() needs for `tokens` queries and a cache of `capacity`.
long long attentionScratch(int tokens, int heads, int capacity);

// gate = silu(gate) * up, element-wise.
void swiglu(float* gate, const float* up, long long n, cudaStream_t stream);

}  // namespace cwb::cudallm
