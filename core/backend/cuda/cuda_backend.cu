// The CUDA backend: the GPUs this process can use, described once, and a Backend per GPU that
// hands jobs to the kernels of fused_pass.cu, cuda_engine.cu and cuda_trainer.cu.
#include <cuda_runtime.h>

#include <memory>
#include <sstream>

#include "core/backend/cuda/cuda_devices.h"
#include "core/backend/cuda/cuda_jobs.h"
#include "core/backend/cuda/cuda_util.cuh"
#include "core/llm/cuda/llama_cuda.h"
#include "core/llm/scheme_rows.h"

namespace cwb::cuda {
namespace {

// A kernel that does nothing: whether it has an image for a GPU says whether this build's
// architectures run there.
__global__ void probeKernel() {}

class CudaBackend final : public Backend {
public:
    CudaBackend(int index, std::string description)
        : m_index(index), m_description(std::move(description)) {}
    std::string name() const override { return "cuda:" + std::to_string(m_index); }
    std::string description() const override { return m_description; }
    std::vector<FusedResult> runFusedPass(const std::vector<FusedJob>& jobs,
                                          const FusedOptions& options,
                                          const Progress& progress) override {
        return cuda::runFusedPass(m_index, jobs, options, progress);
    }
    FusedResult runBlockPass(DType format, const FusedJob& job, const FusedOptions& options,
                             std::byte* blocks, const Progress& progress) override {
        if (!cuda::hasBlockKernel(format))  // F16, BF16, F32: the CPU's pass
            return Backend::runBlockPass(format, job, options, blocks, progress);
        return cuda::runBlockPass(m_index, format, job, options, blocks);
    }
    SchemeRowSums measureSchemeRows(const SchemeRowsJob& job, int threads,
                                    const Progress& progress) override {
        if (!cuda::takesSchemeRows(job))  // rows stored in block formats: the CPU's pass
            return Backend::measureSchemeRows(job, threads, progress);
        return cuda::measureSchemeRows(m_index, job, threads, progress);
    }
    std::unique_ptr<InferenceEngine> makeEngine(const Model& model,
                                                const CompressedEngineOptions& options,
                                                KernelReport* report) override {
        return cuda::makeEngine(m_index, model, options, report);
    }
    std::unique_ptr<LlamaRunner> makeLlamaRunner(const LlamaConfig& config,
                                                 const LlamaWeights& weights,
                                                 const ForwardOptions& options) override {
        return makeCudaLlamaRunner(m_index, config, weights, options);
    }
    train::TrainResult trainModel(Model& model, const Dataset& train, const Dataset* test,
                                  const train::TrainOptions& options,
                                  const train::TrainCallbacks& callbacks) override {
        train::TrainResult result;
        std::string reason;  // what the GPU trainer does not take: the CPU trains it
        if (cuda::trainOnGpu(m_index, model, train, test, options, callbacks, result, reason))
            return result;
        return Backend::trainModel(model, train, test, options, callbacks);
    }

private:
    int m_index;
    std::string m_description;
};

struct Gpu {
    DeviceInfo info;
    std::unique_ptr<CudaBackend> backend;  // null where the GPU cannot run this build
};

struct Devices {
    std::vector<Gpu> gpus;
    std::string reason;  // why there is none, when gpus is empty
};

std::string noDeviceReason(cudaError_t code) {
    int driver = 0;
    cudaDriverGetVersion(&driver);
    if (driver == 0) return "no CUDA driver";
    if (code == cudaErrorNoDevice) return "no CUDA device";
    if (code == cudaErrorInsufficientDriver) {
        std::ostringstream out;
        out << "the CUDA driver (" << driver / 1000 << "." << driver % 1000 / 10
            << ") is older than this build's CUDA " << CUDART_VERSION / 1000 << "."
            << CUDART_VERSION % 1000 / 10;
        return out.str();
    }
    return cudaGetErrorString(code);
}

Devices probe() {
    Devices d;
    int count = 0;
    const cudaError_t code = cudaGetDeviceCount(&count);
    if (code != cudaSuccess || count == 0) {
        cudaGetLastError();  // clear the sticky error of the failed query
        d.reason = code == cudaSuccess ? "no CUDA device" : noDeviceReason(code);
        return d;
    }
    for (int i = 0; i < count; ++i) {
        Gpu gpu;
        gpu.info.name = "cuda:" + std::to_string(i);
        gpu.info.label = "GPU " + std::to_string(i) + " (CUDA)";
        cudaDeviceProp prop{};
        if (cudaGetDeviceProperties(&prop, i) != cudaSuccess) {
            gpu.info.unavailableReason = "its properties cannot be read";
        } else {
            std::ostringstream out;
            out << prop.name << ", " << prop.multiProcessorCount << " SMs, "
                << prop.totalGlobalMem / (1ull << 30) << " GiB, compute " << prop.major << "."
                << prop.minor;
            gpu.info.description = out.str();
            cudaFuncAttributes attributes{};
            cudaError_t runs = cudaSetDevice(i);
            if (runs == cudaSuccess)
                runs =
                    cudaFuncGetAttributes(&attributes, reinterpret_cast<const void*>(&probeKernel));
            if (runs != cudaSuccess) {
                cudaGetLastError();
                gpu.info.unavailableReason = runs == cudaErrorNoKernelImageForDevice
                                                 ? "compute " + std::to_string(prop.major) + "." +
                                                       std::to_string(prop.minor) +
                                                       " is not among this build's architectures"
                                                 : cudaGetErrorString(runs);
            }
        }
        gpu.info.available = gpu.info.unavailableReason.empty();
        if (gpu.info.available)
            gpu.backend = std::make_unique<CudaBackend>(i, gpu.info.description);
        d.gpus.push_back(std::move(gpu));
    }
    return d;
}

const Devices& devices() {
    static const Devices d = probe();  // thread-safe once
    return d;
}

}  // namespace

std::vector<DeviceInfo> deviceRows() {
    const Devices& d = devices();
    if (d.gpus.empty()) return {{"cuda", "GPU (CUDA)", "", false, d.reason}};
    std::vector<DeviceInfo> rows;
    for (const Gpu& gpu : d.gpus) rows.push_back(gpu.info);
    return rows;
}

Backend* backendFor(int index, std::string& reason) {
    const Devices& d = devices();
    if (d.gpus.empty()) {
        reason = d.reason;
        return nullptr;
    }
    if (index >= static_cast<int>(d.gpus.size())) {
        reason = "this machine has " + std::to_string(d.gpus.size()) + " CUDA device" +
                 (d.gpus.size() == 1 ? "" : "s");
        return nullptr;
    }
    const Gpu& gpu = d.gpus[static_cast<std::size_t>(index)];
    reason = gpu.info.unavailableReason;
    return gpu.backend.get();
}

}  // namespace cwb::cuda
