// Causal grouped-query attention of a batch of independent sequences on tensor cores (the
// batched prefill, LlamaRunner::prefillBatch): 16-bit queries, keys and values (f16 or bf16),
// float32 scores, softmax and sums. One pass over the keys per block of 64 queries with the
// softmax kept online (no score matrix in device memory); products by mma.sync m16n8k16.
#pragma once

#include <cuda_runtime.h>

namespace cwb::cudallm {

// Rows of the sequences in a batch are s * length + t (sequence s, position t).
struct FlashArgs {
    const void* q;   // [sequences * length, heads * headDim], RoPE applied
    const void* k;   // [sequences * length, kvHeads * headDim], RoPE applied
    const void* vt;  // values transposed: [sequences, kvHeads, headDim, paddedLength],
                     // zeros past length (see transposeValues)
    void* out;       // [sequences * length, heads * headDim]
    int sequences, length, paddedLength, heads, kvHeads, headDim;
};

// The key tile: paddedLength is length rounded up to it.
constexpr int kFlashKeys = 64;

// Whether flashAttention has a kernel for this head size (32, 64, 128).
bool flashSupports(int headDim);

// out = softmax(q k^T / sqrt(headDim), causal) v per sequence and head; `bf16` picks the
// 16-bit type of all four arrays (else f16). Throws cwb::Error for an unsupported head size.
void flashAttention(const FlashArgs& args, bool bf16, cudaStream_t stream);

}  // namespace cwb::cudallm
