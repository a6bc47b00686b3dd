// The float32 CPU engine's tuning knobs, for benchmarks and tests; ordinary callers use
// makeCpuEngine(model, EngineOptions) from engine.h, which picks the defaults below.
#pragma once

#include <memory>

#include "core/infer/cpu/conv2d.h"
#include "core/infer/engine.h"

namespace cwb {

enum class CpuStrategy {
    // Default, measured faster: the batch is split into one contiguous slice per thread and
    // each thread runs its slice through all layers a few images at a time (activations stay
    // in its L2) with single-threaded BLAS.
    BatchSlices,
    // The plain alternative kept for comparison: layer after layer on the whole batch, with
    // OpenBLAS's own threads inside each GEMM.
    WholeBatchBlas,
};

struct CpuEngineOptions {
    EngineOptions engine;
    CpuStrategy strategy = CpuStrategy::BatchSlices;
    int chunkImages =
        0;  // BatchSlices: images per pass through the convolutional head; 0 = sized for L2
    bool foldBatchNorm =
        true;  // false runs BatchNormalization as its own op (tests compare the two)
    cpu::ConvAlgorithm convAlgorithm = cpu::ConvAlgorithm::Auto;  // BatchSlices only
};

std::unique_ptr<InferenceEngine> makeCpuEngine(const Model& model, const CpuEngineOptions& options);

}  // namespace cwb
