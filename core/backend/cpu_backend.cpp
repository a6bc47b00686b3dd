// The CPU backend: the fused pass and the compressed engine of core/compress and core/infer.
#include <sstream>

#include "core/backend/backend.h"
#include "core/compress/block_pass.h"
#include "core/infer/int8/int8_gemm.h"
#include "core/llm/llama_forward.h"
#include "core/llm/scheme_rows.h"
#include "core/util/parallel.h"

namespace cwb {
namespace {

class CpuBackend final : public Backend {
public:
    std::string name() const override { return "cpu"; }
    std::string description() const override {
        std::ostringstream out;
        out << "CPU, " << resolveThreads(0) << " threads, int8 " << int8::isaName(int8::bestIsa());
        return out.str();
    }
    std::vector<FusedResult> runFusedPass(const std::vector<FusedJob>& jobs,
                                          const FusedOptions& options,
                                          const Progress& progress) override {
        return cwb::runFusedPass(jobs, options, progress);
    }
    std::unique_ptr<InferenceEngine> makeEngine(const Model& model,
                                                const CompressedEngineOptions& options,
                                                KernelReport* report) override {
        return makeCpuCompressedEngine(model, options, report);
    }
};

}  // namespace

std::unique_ptr<LlamaRunner> Backend::makeLlamaRunner(const LlamaConfig& config,
                                                      const LlamaWeights& weights,
                                                      const ForwardOptions& options) {
    return std::make_unique<LlamaForward>(config, weights, options);
}

FusedResult Backend::runBlockPass(DType format, const FusedJob& job, const FusedOptions& options,
                                  std::byte* blocks, const Progress& progress) {
    return runBlockPassOnCpu(format, job, options, blocks, progress);
}

SchemeRowSums Backend::measureSchemeRows(const SchemeRowsJob& job, int threads,
                                         const Progress& progress) {
    return measureSchemeRowsOnCpu(job, threads, progress);
}

train::TrainResult Backend::trainModel(Model& model, const Dataset& train, const Dataset* test,
                                       const train::TrainOptions& options,
                                       const train::TrainCallbacks& callbacks) {
    return train::trainModel(model, train, test, options, callbacks);
}

std::unique_ptr<LlamaRunner> makeLlamaRunner(Backend* backend, const LlamaConfig& config,
                                             const LlamaWeights& weights,
                                             const ForwardOptions& options) {
    return backendOr(backend).makeLlamaRunner(config, weights, options);
}

Backend& cpuBackend() {
    static CpuBackend cpu;
    return cpu;
}

}  // namespace cwb
