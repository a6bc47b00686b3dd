// A compute backend runs whole jobs: the fused compression pass over a set of tensors, and a
// network compiled into an engine that evaluates batches. Jobs are plain data (host tensors,
// option structs), so the window's worker lanes and the command line call the same entry
// points, compressModel() and makeCompressedEngine(), whichever device runs them; those hand
// the job to the backend their options name (the CPU when none). The CPU backend runs the
// kernels of core/compress and core/infer; a CUDA backend (issue 12) adds a row to the device
// list in backend_registry.cpp and implements this interface.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "core/compress/fused_pass.h"
#include "core/infer/compressed_engine.h"
#include "core/model/dtype.h"
#include "core/train/trainer.h"
#include "core/util/progress.h"

namespace cwb {

class LlamaRunner;
struct SchemeRowsJob;
struct SchemeRowSums;
struct LlamaConfig;
struct LlamaWeights;
struct ForwardOptions;

class Backend {
public:
    virtual ~Backend() = default;
    // What --device and the Device box call it: "cpu", "cuda:0".
    virtual std::string name() const = 0;
    // One line for the Device box and reports: "CPU, 16 threads, int8 avx512-vnni".
    virtual std::string description() const = 0;

    // The fused compression pass of core/compress/fused_pass.h over `jobs`. Every backend
    // gives the CPU's masks and values exactly and its statistics to float32 rounding.
    virtual std::vector<FusedResult> runFusedPass(const std::vector<FusedJob>& jobs,
                                                  const FusedOptions& options,
                                                  const Progress& progress) = 0;

    // A llama.cpp block format (or F16, BF16) as a fused pass over job.in
    // (core/compress/block_pass.h): the blocks to `blocks` where not null, the decoded values
    // to job.out where not null, and their figures. Every backend gives the CPU's bytes and
    // values exactly and its figures to float32 rounding. The default is the CPU's
    // (runBlockPassOnCpu); a device with its own pass overrides it and hands the formats it
    // has no kernel for to the default.
    virtual FusedResult runBlockPass(DType format, const FusedJob& job, const FusedOptions& options,
                                     std::byte* blocks, const Progress& progress);

    // The whole-model table's row pass over one matrix (core/llm/scheme_rows.h): its signal,
    // extremes, each block format's and alpha/rho rule's error. Every backend gives the CPU's
    // zeros and extremes exactly and its sums to the summation order. The default is the CPU's
    // (measureSchemeRowsOnCpu); a device overrides it and hands what it cannot run to it.
    virtual SchemeRowSums measureSchemeRows(const SchemeRowsJob& job, int threads,
                                            const Progress& progress);

    // `model` compiled to evaluate batches here (InferenceEngine::forward). Throws cwb::Error
    // if the model is not evaluable.
    virtual std::unique_ptr<InferenceEngine> makeEngine(const Model& model,
                                                        const CompressedEngineOptions& options,
                                                        KernelReport* report) = 0;

    // A Llama forward pass over `weights` (views: the runner copies what it needs) on this
    // device, for perplexity, generation and the speed test. The default is the CPU's
    // LlamaForward; a device with its own pass overrides it. Throws cwb::Error as
    // validateLlama does, or when the device cannot hold the weights.
    virtual std::unique_ptr<LlamaRunner> makeLlamaRunner(const LlamaConfig& config,
                                                         const LlamaWeights& weights,
                                                         const ForwardOptions& options);

    // Trains `model` in place as train::trainModel does (the same batches in the same order,
    // loss, optimizer and reports), here. The default is the CPU's trainModel; a device with
    // its own training overrides it and may hand models it cannot train to the default.
    virtual train::TrainResult trainModel(Model& model, const Dataset& train, const Dataset* test,
                                          const train::TrainOptions& options,
                                          const train::TrainCallbacks& callbacks);
};

// The CPU backend: always available.
Backend& cpuBackend();
// `backend`, or the CPU backend where options leave it unset.
inline Backend& backendOr(Backend* backend) { return backend ? *backend : cpuBackend(); }

// A device this build knows, whether or not it can run here.
struct DeviceInfo {
    std::string name;         // "cpu", "cuda", "cuda:1"
    std::string label;        // short, for a list: "CPU", "GPU (CUDA)"
    std::string description;  // Backend::description() where available
    bool available = false;
    std::string unavailableReason;  // "this build has no CUDA backend"
};

// Every device, the CPU first, for the Device box and `--device` help.
std::vector<DeviceInfo> listDevices();

struct BackendChoice {
    Backend* backend = nullptr;  // never null
    std::string note;            // one line when another device than the one asked runs the jobs
};

// The backend's Llama runner, the CPU's where `backend` is null.
std::unique_ptr<LlamaRunner> makeLlamaRunner(Backend* backend, const LlamaConfig& config,
                                             const LlamaWeights& weights,
                                             const ForwardOptions& options);

// The backend for a device name: "cpu", "cuda", "cuda:N", or "auto" (a GPU where one works,
// else the CPU, without a note). A known device that cannot run here falls back to the CPU
// with a note ("cuda:1: not available (this build has no CUDA backend); running on the CPU");
// an unknown name throws cwb::Error naming the choices.
BackendChoice chooseBackend(const std::string& device);

}  // namespace cwb
