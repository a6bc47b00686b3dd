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
// values-only passes.
std::vector<std::string> fusedCaseNames();
// "" when the GPU gives the CPU's values, masks, codes and histograms exactly and its sums to
// float32 rounding; else the first difference, in one line.
std::string checkFusedCase(Backend& gpu, const std::string& name);

struct EngineCheck {
    double cpuAccuracy = 0, gpuAccuracy = 0;
    double maxOutputDifference = 0;  // largest |GPU - CPU| over the first outputs
    std::string failure;             // "" when accuracy is within 0.0005 and outputs within 1e-4
};
// `model` (a fixture path) evaluated by both backends on `data`.
EngineCheck checkEngine(Backend& gpu, const std::string& model, const Dataset& data);

// The models the engine check uses (fixture names).
std::vector<std::string> engineCheckModels();

}  // namespace cwb::test
