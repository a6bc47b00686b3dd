// One op of a compressed model as the compressed engine runs it: on the float32, int8 or
// sparse kernels, with the scratch each needs. Shared by the engine, which runs the steps,
// and the kernel autotuning, which times them (kernel_autotune.h).
#pragma once

#include <string>
#include <vector>

#include "core/infer/epilogue.h"
#include "core/infer/int8/int8_layer.h"
#include "core/infer/plan.h"
#include "core/infer/sparse/sparse_layer.h"
#include "core/infer/staging.h"

namespace cwb::compressed {

enum class Path { Float, Int8, Sparse };

// "float32", "int8 (avx512-vnni)", "sparse (csr)".
std::string pathName(Path path, int8::Isa isa);

struct Step {
    const PlanOp* op = nullptr;
    Path path = Path::Float;
    Epilogue epilogue;  // Int8 / Sparse
    int8::Int8Weights int8;
    sparse::CsrMatrix csr;
};

struct Scratch {
    std::vector<float> ping, pong, features, patches;
    int8::Int8Scratch int8;
    sparse::SparseScratch sparse;
};

// Runs one step on n images: `in` holds n * op.inputSize floats, `out` n * op.outputSize.
void runStep(const Step& step, int8::Isa isa, const float* in, int n, float* out, Scratch& s);

// Grows the scratch to what `plan` under `staging` needs.
void reserve(Scratch& s, const Plan& plan, const Staging& staging);

}  // namespace cwb::compressed
