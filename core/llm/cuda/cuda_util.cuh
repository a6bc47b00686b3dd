// The CUDA backend's checks and device buffer (core/backend/cuda/cuda_util.cuh) as the Llama
// pass uses them: byte buffers viewed as any type, and cuBLAS's status checked like CUDA's.
#pragma once

#include <cublas_v2.h>

#include <cstddef>

#include "core/backend/cuda/cuda_util.cuh"

namespace cwb::cudallm {

using cuda::check;
using cuda::checkLaunch;

inline void check(cublasStatus_t status, const char* what) {
    if (status != CUBLAS_STATUS_SUCCESS)
        throw Error(std::string("CUDA: ") + what + " failed: " + cublasGetStatusString(status) +
                    "; run on the CPU (--device cpu) or check the GPU");
}

// Device bytes that grow on demand (contents are not kept), seen as any element type.
class DeviceBuffer : public cuda::DeviceBuffer<std::byte> {
public:
    DeviceBuffer() = default;
    explicit DeviceBuffer(std::size_t bytes) { reserve(bytes); }
    void reserve(std::size_t bytes) { resize(bytes); }
    std::size_t bytes() const { return size(); }
    template <typename T>
    T* as() const {
        return reinterpret_cast<T*>(data());
    }
};

}  // namespace cwb::cudallm
