// A Llama checkpoint's tensors by role, whatever the file called them. Each Tensor is a view
// in the file's own dtype (BF16, F16, F32 or a block type) into mapped storage; nothing is
// converted until a kernel needs it. Matrices are row-major [out, in] in every format (GGUF's
// ne[0] is the fastest axis, so its [in, out] dims describe the same bytes), with block types
// blocked along each row.
#pragma once

#include <string>
#include <vector>

#include "core/llm/llama_config.h"
#include "core/llm/vocabulary.h"
#include "core/model/tensor.h"

namespace cwb {

struct LlamaBlockWeights {
    Tensor attnNorm;    // [hidden]
    Tensor q, k, v, o;  // [heads*headDim, hidden], [kv*headDim, hidden] x2, [hidden, heads*headDim]
    Tensor ffnNorm;     // [hidden]
    Tensor gate, up, down;  // [inter, hidden] x2, [hidden, inter]
};

struct LlamaWeights {
    Tensor embedding;  // [vocab, hidden]
    std::vector<LlamaBlockWeights> blocks;
    Tensor finalNorm;  // [hidden]
    Tensor output;     // [vocab, hidden]; the embedding itself when tied
};

// What a reader gives back: the model, its tokenizer's vocabulary and every tensor under the
// name the file uses (for the tensor browser and `cwb info`).
struct LlamaCheckpoint {
    std::string path;    // the folder or file the user gave
    std::string format;  // "Hugging Face safetensors", "GGUF v3", "llama2.c"
    LlamaConfig config;
    LlamaWeights weights;
    Vocabulary vocabulary;
    std::string tokenizerModelPath;    // a SentencePiece tokenizer.model beside it, if any
    std::vector<NamedTensor> tensors;  // in file order
};

}  // namespace cwb
