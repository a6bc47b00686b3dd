// The CUDA backend's jobs, as plain C++ entry points over host data (what Backend takes) and
// over device-resident data (what bench/cuda_bench.cpp times). Built only with CWB_HAVE_CUDA.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/compress/fused_pass.h"
#include "core/infer/compressed_engine.h"
#include "core/model/dtype.h"
#include "core/train/trainer.h"

namespace cwb {
struct SchemeRowsJob;
struct SchemeRowSums;
}  // namespace cwb

namespace cwb::cuda {

// The fused pass of core/compress/fused_pass.h on GPU `device`: the same masks, values, codes
// and histograms as the CPU's, and its sums to float32 rounding (summed in another order).
std::vector<FusedResult> runFusedPass(int device, const std::vector<FusedJob>& jobs,
                                      const FusedOptions& options, const Progress& progress);

// A llama.cpp block format (Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q2_K, Q3_K, Q4_K, Q5_K or Q6_K) as a
// fused pass on GPU `device`: job.keep first (a pruned weight enters its block as 0), then
// every block of 32 (K formats: 256) consecutive weights of a row (rows of whole blocks)
// quantized by the reference rules. The packed blocks, written to `blocks` where not null
// (dtypeStorageBytes(format, n) bytes), equal quant::quantizeRow's; job.out takes the decoded
// values (dequantizeRow's). Histograms of the original, decoded and error values and the sums
// as runFusedPass's; job.quant must be None and no codes are counted.
FusedResult runBlockPass(int device, DType format, const FusedJob& job, const FusedOptions& options,
                         std::byte* blocks);
// Whether runBlockPass has a kernel for `format`.
bool hasBlockKernel(DType format);
// runBlockPass's sums over n float32 weights already on GPU `device` (rows of `cols`, whole
// blocks of `format`): every weight kept, no histograms, nothing written.
FusedResult blockErrorOnDevice(int device, DType format, const float* in, long long n,
                               long long cols);

// Backend::measureSchemeRows (core/llm/scheme_rows.h) on GPU `device`: the stored rows
// uploaded once through pinned buffers (`threads` host threads fill them), decoded there, each
// block format by runBlockPass's kernels and each step rule by quant::addStepError's rule.
// The CPU's zeros and extremes exactly, its sums to the summation order. Only for jobs that
// takesSchemeRows: F32, F16 or BF16 matrices and formats with a kernel.
SchemeRowSums measureSchemeRows(int device, const SchemeRowsJob& job, int threads,
                                const Progress& progress);
bool takesSchemeRows(const SchemeRowsJob& job);

// `model`'s float32 plan (core/infer/plan.h) on GPU `device`: cuBLAS SGEMM for Dense and
// Conv2D (as patches), without TF32 unless options.engine.gpuMath asks; own kernels for the rest.
std::unique_ptr<InferenceEngine> makeEngine(int device, const Model& model,
                                            const CompressedEngineOptions& options,
                                            KernelReport* report);

// train::trainModel on GPU `device` for multilayer perceptrons (Dense layers, ReLU or linear):
// the same batches, loss and optimizer, results equal to float rounding. Returns false, with
// the reason and the model untouched, for a model it does not train (the caller then trains
// on the CPU); throws cwb::Error as trainModel does.
bool trainOnGpu(int device, Model& model, const Dataset& train, const Dataset* test,
                const train::TrainOptions& options, const train::TrainCallbacks& callbacks,
                train::TrainResult& result, std::string& reason);

// ---- timing on device-resident data, for bench/cuda_bench.cpp ----

struct FusedTiming {
    double medianMs = 0, minMs = 0;
    FusedResult result;  // of the last run
};
// Times the pass over `n` weights drawn on the device (normal, sigma 0.05, a fixed seed), with
// the job's settings (its `in` and `out` are ignored; `writeOut` says whether values are
// written to a device buffer). `literal` counts by the CPU's literal rules (the pass's
// generic mode) instead of the fast ones, and `ways` > 0 then caps the shared-memory copies of
// each counter (a power of two up to 32; the pass takes the most that fit), as comparisons.
FusedTiming timeFusedPass(int device, long long n, const FusedJob& settings, bool writeOut,
                          const FusedOptions& options, int repeats, bool literal = false,
                          int ways = 0);

// runBlockPass over `n` weights drawn as timeFusedPass draws them, the blocks written to a
// device buffer where `writeBlocks`.
FusedTiming timeBlockPass(int device, long long n, DType format, const FusedJob& settings,
                          bool writeBlocks, const FusedOptions& options, int repeats);

// The timed passes' weights: normal, sigma 0.05, the same for every run, drawn on the device.
void fillNormalWeights(float* out, long long n);

// Times engine->forward over `batch` samples already on the device (input copied once); the
// engine must come from makeEngine above. Median and minimum milliseconds per forward.
struct ForwardTiming {
    double medianMs = 0, minMs = 0;
};
ForwardTiming timeForward(InferenceEngine& engine, const float* hostInput, int batch, int repeats);

// One forward pass of `batch` samples (after a warm-up) with an event after each step: the
// milliseconds of each step by name ("conv2d_1: im2col", ": gemm", ": epilogue", ...), in order.
std::vector<std::pair<std::string, double>> profileForward(InferenceEngine& engine,
                                                           const float* hostInput, int batch);

}  // namespace cwb::cuda
