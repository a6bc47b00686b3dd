// An engine for compressed models that exploits the compression: int8 kernels where the
// codes need 8 bits or fewer, CSR sparse kernels for pruned layers, float32 otherwise, chosen
// per layer. In the automatic mode the candidates are timed on the layer itself and the
// faster one runs; the report says which path each layer took and, plainly, when a
// compression bought no speed.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/compress/compress_model.h"
#include "core/infer/engine.h"

namespace cwb {

// KernelChoice and its names are in core/compress/compression_settings.h.

class Backend;

struct LayerKernel {
    std::string layer;  // the Dense/Conv2D layer
    std::string className;
    std::string path;       // "int8 (avx512-vnni)", "sparse (csr)", "float32"
    std::string reason;     // why, in words
    double sparsity = 0.0;  // exact zeros in the kernel
    int codeBits = 0;       // int8 path: bits the codes span
    // Measured milliseconds per 1000 images for this layer alone (-1: not measured).
    double floatMs = -1.0, int8Ms = -1.0, sparseMs = -1.0;
    bool speedup = false;  // the chosen path measured faster than float32
};

struct KernelReport {
    std::string engine;  // the engine's name()
    std::vector<LayerKernel> layers;
    std::string text() const;  // one line per layer
};

struct CompressedEngineOptions {
    EngineOptions engine;
    KernelChoice kernel = KernelChoice::Auto;
    // The compression's grids, one per model layer (CompressionResult::grids); without them
    // the int8 path re-quantizes per channel when forced and Auto does not use it.
    const std::vector<KernelGrid>* grids = nullptr;
    double sparseCandidate = 0.5;  // Auto: layers at least this sparse also try the sparse kernel
    bool measure = true;           // time the candidates (Auto picks the fastest measured)
    Backend* backend = nullptr;    // where it runs (core/backend/backend.h); nullptr: the CPU
};

// The engine of `model` on the options' backend. Throws cwb::Error if the model is not
// evaluable.
std::unique_ptr<InferenceEngine> makeCompressedEngine(const Model& model,
                                                      const CompressedEngineOptions& options,
                                                      KernelReport* report = nullptr);

// The CPU backend's engine: int8, sparse or float32 kernels per layer as described above;
// KernelChoice::Float returns the float32 engine of core/infer (makeCpuEngine).
std::unique_ptr<InferenceEngine> makeCpuCompressedEngine(const Model& model,
                                                         const CompressedEngineOptions& options,
                                                         KernelReport* report = nullptr);

}  // namespace cwb
