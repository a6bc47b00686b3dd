// The shape of a Llama-family language model, as every checkpoint format describes it
// (Hugging Face config.json, GGUF metadata, llama2.c's header).
#pragma once

#include <string>

namespace cwb {

// How RoPE pairs the dimensions of a head: Hugging Face stores q/k for "rotate half"
// (dimension i with i + d/2); llama.cpp's GGUF and llama2.c pair adjacent dimensions
// (2i with 2i + 1). The same model written both ways gives the same logits.
enum class RopeLayout { RotateHalf, AdjacentPairs };

struct LlamaConfig {
    std::string architecture = "llama";  // "llama" or "mistral"
    int hiddenSize = 0;
    int intermediateSize = 0;
    int layers = 0;
    int heads = 0;
    int kvHeads = 0;
    int headDim = 0;  // hiddenSize / heads unless the file says otherwise
    int vocabSize = 0;
    int maxSequence = 0;  // 0 when the file does not say
    float rmsNormEps = 1e-5f;
    float ropeTheta = 10000.0f;
    bool tiedEmbeddings = false;
    RopeLayout rope = RopeLayout::RotateHalf;
};

}  // namespace cwb
