// The CUDA backend's checks, grid sizes and device buffer (core/backend/cuda/cuda_util.cuh) as
// the Llama pass uses them: byte buffers viewed as any type.
#pragma once

#include <cublas_v2.h>

#include <cstddef>

#include "core/backend/cuda/cuda_util.cuh"

namespace cwb::cudallm {

using cuda::check;  // CUDA's and cuBLAS's status
using cuda::checkLaunch;
using cuda::gridFor;

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
