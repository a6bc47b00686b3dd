// Error checks and an owning device buffer for the CUDA Llama pass (core/llm/cuda).
#pragma once

#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <cstddef>
#include <string>
#include <utility>

#include "core/error.h"

namespace cwb::cudallm {

[[noreturn]] void throwCuda(const char* what, const std::string& detail);

inline void check(cudaError_t e, const char* what) {
    if (e != cudaSuccess) throwCuda(what, cudaGetErrorString(e));
}
inline void check(cublasStatus_t s, const char* what) {
    if (s != CUBLAS_STATUS_SUCCESS) throwCuda(what, cublasGetStatusString(s));
}
// After a kernel launch: a bad configuration shows here, a fault at the next synchronization.
inline void checkLaunch(const char* what) { check(cudaGetLastError(), what); }

// cudaMalloc'd bytes, freed with the object; grows on demand (contents are not kept).
class DeviceBuffer {
public:
    DeviceBuffer() = default;
    explicit DeviceBuffer(std::size_t bytes) { reserve(bytes); }
    ~DeviceBuffer() { release(); }
    DeviceBuffer(DeviceBuffer&& o) noexcept
        : m_ptr(std::exchange(o.m_ptr, nullptr)), m_bytes(std::exchange(o.m_bytes, 0)) {}
    DeviceBuffer& operator=(DeviceBuffer&& o) noexcept {
        if (this != &o) {
            release();
            m_ptr = std::exchange(o.m_ptr, nullptr);
            m_bytes = std::exchange(o.m_bytes, 0);
        }
        return *this;
    }
    DeviceBuffer(const DeviceBuffer&) = delete;
    DeviceBuffer& operator=(const DeviceBuffer&) = delete;

    void reserve(std::size_t bytes);
    template <typename T>
    T* as() const {
        return static_cast<T*>(m_ptr);
    }
    std::size_t bytes() const { return m_bytes; }

private:
    void release() {
        if (m_ptr) cudaFree(m_ptr);
        m_ptr = nullptr;
        m_bytes = 0;
    }
    void* m_ptr = nullptr;
    std::size_t m_bytes = 0;
};

}  // namespace cwb::cudallm
