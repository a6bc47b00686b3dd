// The forward pass behind an interface, so that a CUDA backend can stand beside the CPU
// one: callers compile a Model into an engine once and then run batches through it.
#pragma once

#include <memory>
#include <string>

#include "core/model/model.h"

namespace cwb {

// How a GPU engine multiplies (the CPU ignores it). Float32: exact float32 products, results
// within float32 rounding of the CPU's. Tf32: the tensor cores' TF32 (10-bit mantissas in the
// products, float32 sums), several times the throughput, outputs no longer equal to the CPU's.
enum class GpuMath { Float32, Tf32 };

struct EngineOptions {
    int threads = 0;      // 0 = all cores
    bool logits = false;  // stop before a final softmax (distillation wants logits)
    GpuMath gpuMath = GpuMath::Float32;
};

class InferenceEngine {
public:
    virtual ~InferenceEngine() = default;
    // What runs, for reports: "cpu float32", "cpu int8 (avx512-vnni)", ...
    virtual std::string name() const = 0;
    virtual int inputSize() const = 0;   // floats per sample
    virtual int outputSize() const = 0;  // floats per sample
    // input: batch * inputSize() floats (channels_last); output: batch * outputSize().
    virtual void forward(const float* input, int batch, float* output) = 0;
};

// The float32 CPU engine. Throws cwb::Error if the model is not evaluable.
std::unique_ptr<InferenceEngine> makeCpuEngine(const Model& model,
                                               const EngineOptions& options = {});

}  // namespace cwb
