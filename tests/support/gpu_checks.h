// The GPU backend's agreement with the CPU backend, as plain functions (no Qt): the Qt test
// tests/core/cuda_backend_test.cpp runs them where CI builds, and bench/cuda_bench --check
// runs them on a GPU machine that has no Qt. The CPU kernels they compare against are tested
// against fixtures and hand-worked figures elsewhere, so a difference here is the GPU's.
#pragma once

#include <string>
#include <vector>

#include "core/backend/backend.h"
#include "core/io/idx_dataset.h"

namespace cwb::test {

// The fused-pass cases: quantizer x keep rule, plus statistics-only, no-histogram and
// values-only passes, and weights on histogram edges, next to rounding ties and past the code
// span ("edges", and "edges, huge" with codes past 2^22); "coarse bins" (16 bins, each over
// several codes of the step) and "fine step" (a step of 0.0005: many codes in each bin).
std::vector<std::string> fusedCaseNames();
// "" when the GPU gives the CPU's values, masks, codes and histograms exactly and its sums to
// float32 rounding; else the first difference, in one line.
std::string checkFusedCase(Backend& gpu, const std::string& name);

// The block-format cases of the GPU's fused pass (cuda::runBlockPass): Q8_0, Q4_0, Q4_1, Q5_0,
// Q5_1, Q2_K, Q3_K, Q4_K, Q5_K and Q6_K x keep rule, and "edges" blocks (all zero, -0, ties of
// the largest magnitude with either sign, subnormal scales, quotients on half-integers; K
// formats: super-blocks all equal, zero, negative only, with one outlier, tiny and huge).
std::vector<std::string> blockCaseNames();
// "" when GPU `device` gives the bytes of quant::quantizeRow on the masked weights, the values
// of dequantizeRow, their histograms and zeros exactly and the sums to float32 rounding; else
// the first difference, in one line. Without a CUDA backend in the build, says so.
std::string checkBlockCase(int device, const std::string& name);

// Block formats through the backend entry, one per format (and F16, which a GPU hands to the
// CPU's pass): "Q4_K/backend" compares Backend::runBlockPass on `gpu` with the CPU backend's
// (bytes, values, counts and histograms exactly, sums to float32 rounding); "Q4_K/tensor" a
// bf16 matrix through compressLlmTensor with options.backend = `gpu` against the CPU's route
// (counts, extremes, histograms and their automatic edges, levels and size exactly, sums
// and SQNR to float32 rounding). Both on K-format edge super-blocks among normal weights.
std::vector<std::string> backendBlockCaseNames();
// "" when they agree; else the first difference, in one line.
std::string checkBackendBlockCase(Backend& gpu, const std::string& name);

// The whole-model table's row pass (Backend::measureSchemeRows) on `gpu` against the CPU's, on
// the matrices of the safetensors file `shard` (bf16, e.g. kjv-llama-6m's first shard): "Q4_K"
// one block format per case, "rules" four alpha/rho rules, "F16" and "F32" the embedding
// stored in that type under every format and two rules, "cancel" every format and two rules
// after a pass cancelled midway on `gpu`. Zeros and extremes exactly, the
// signal and every error within 1e-5 relative (the summation order), and measureSchemes'
// cells: bytes exactly, SQNR within 1e-4 dB. `worst`, where given, takes the largest
// relative difference of the sums seen.
std::vector<std::string> schemeTableCaseNames();
std::string checkSchemeTableCase(Backend& gpu, const std::string& shard, const std::string& name,
                                 double* worst = nullptr);

struct EngineCheck {
    double cpuAccuracy = 0, gpuAccuracy = 0;
    double maxOutputDifference = 0;  // largest |GPU - CPU| over the first outputs
    std::string failure;  // "" when accuracy is within 0.0005 and outputs within 1e-4 (TF32: 2e-2)
};
// `model` (a fixture path) evaluated by both backends on `data`, the GPU multiplying as `math`
// asks (TF32's 10-bit products move the softmax outputs by up to ~1e-3 on the fixtures).
EngineCheck checkEngine(Backend& gpu, const std::string& model, const Dataset& data,
                        GpuMath math = GpuMath::Float32);

// The models the engine check uses (fixture names).
std::vector<std::string> engineCheckModels();

// Distillation of the mlp:128 student (seed 1) against `teacherLogits` (one row per sample of
// `train`) at temperature 4, kd weight 0.5, by the CPU backend and by `gpu`.
struct TrainCheck {
    // One batch of plain SGD (lr 0.1): the largest |GPU - CPU| over the student's weights,
    // where only the order of summation differs (a few 1e-9 expected).
    double stepDifference = 0;
    // One epoch of Adam (lr 1e-3, `batch`): the epoch's training loss and accuracy, the test
    // accuracy, the relative L2 difference of the weights, and the epochs' seconds.
    double cpuLoss = 0, gpuLoss = 0, cpuAccuracy = 0, gpuAccuracy = 0;
    double cpuTestAccuracy = 0, gpuTestAccuracy = 0, weightDifference = 0;
    double cpuSeconds = 0, gpuSeconds = 0;
    std::string failure;  // "" when the step agrees within 1e-6 and the epoch within 1e-3
                          // (loss, relative) and 0.003 (accuracies)
};
TrainCheck checkDistillation(Backend& gpu, const Dataset& train, const Dataset& test,
                             const std::vector<float>& teacherLogits, int batch);

}  // namespace cwb::test
