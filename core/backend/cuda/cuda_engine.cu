// The float32 inference engine on a GPU (placeholder until the kernels land).
#include "core/backend/cuda/cuda_jobs.h"
#include "core/error.h"

namespace cwb::cuda {

std::unique_ptr<InferenceEngine> makeEngine(int, const Model&, const CompressedEngineOptions&,
                                            KernelReport*) {
    throw Error("the CUDA engine is not built yet; run on the CPU (--device cpu)");
}

ForwardTiming timeForward(InferenceEngine&, const float*, int, int) { return {}; }

}  // namespace cwb::cuda
