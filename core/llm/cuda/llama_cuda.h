// The Llama forward pass on an NVIDIA GPU (built only with CUDA): the CUDA backend's
// Backend::makeLlamaRunner. Weights are copied to the GPU once, in their own formats: Q8_0,
// Q4_0 and Q4_K stay packed (their codes and scales in separate arrays, the same bytes) and are
// multiplied by int8 dot products (dp4a) for a few tokens, or widened to f16 a matrix at a time
// for cuBLAS in a prefill; F16, BF16 and F32 go to cuBLAS as they are. Other block formats are
// widened to f16 on upload. Activations, the KV cache and softmax are float32.
#pragma once

#include <memory>

#include "core/llm/llama_forward.h"

namespace cwb {

// Throws cwb::Error when the device cannot be used or cannot hold the weights, and as
// validateLlama does.
std::unique_ptr<LlamaRunner> makeCudaLlamaRunner(int device, const LlamaConfig& config,
                                                 const LlamaWeights& weights,
                                                 const ForwardOptions& options);

}  // namespace cwb
