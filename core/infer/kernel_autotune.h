// Which kernels run each Dense/Conv2D layer of the compressed engine: the int8 candidate (from
// the compression's grid, or re-quantized when int8 is forced), the sparse candidate (CSR, for
// layers sparse enough), each timed on the layer alone when measuring, and the reason for the
// choice in words (KernelReport). The engine (compressed_engine.cpp) runs what this chooses.
#pragma once

#include "core/infer/compressed_engine.h"
#include "core/infer/compressed_step.h"

namespace cwb::compressed {

// What one Dense/Conv2D op can be run with.
struct LayerContext {
    const Plan* plan = nullptr;        // the unfolded plan the op belongs to
    const PlanOp* affine = nullptr;    // an unfolded BatchNormalization right after it, or null
    const KernelGrid* grid = nullptr;  // the compression's grid of the layer, or null
    int images = 1;                    // images per call the engine will give the op
    int8::Isa isa = int8::Isa::Scalar;
};

// Chooses the path of `floatStep` (a Dense/Conv2D op on the float32 path) and fills `row`
// (path, reason, timings, sparsity). Returns the step to run: `floatStep` itself for float32,
// else an int8 or sparse step whose epilogue takes in `context.affine`.
Step chooseLayerKernel(const Step& floatStep, const LayerContext& context,
                       const CompressedEngineOptions& options, LayerKernel& row);

// Fraction of exact zeros.
double sparsityOf(const std::vector<float>& weights);

}  // namespace cwb::compressed
