// Small helpers shared by the CUDA backend's files (and core/llm/cuda): a checked call that
// turns a CUDA or cuBLAS error into cwb::Error, launch grid sizes, row-major matrix products
// through cuBLAS, an owning device buffer, and the device-selection guard.
#pragma once

#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <cstddef>
#include <string>
#include <utility>

#include "core/error.h"

namespace cwb::cuda {

[[noreturn]] inline void fail(cudaError_t code, const char* what) {
    throw Error(std::string("CUDA: ") + what + " failed: " + cudaGetErrorString(code) +
                "; run on the CPU (--device cpu) or check the GPU");
}

inline void check(cudaError_t code, const char* what) {
    if (code != cudaSuccess) fail(code, what);
}

// After a kernel launch: launch errors now, execution errors at the next synchronisation.
inline void checkLaunch(const char* kernel) { check(cudaGetLastError(), kernel); }

inline void check(cublasStatus_t status, const char* what) {
    if (status != CUBLAS_STATUS_SUCCESS)
        throw Error(std::string("CUDA: ") + what + " failed: " + cublasGetStatusString(status) +
                    "; run on the CPU (--device cpu) or check the GPU");
}

// Blocks of `threads` for n elements, at most maxBlocks (kernels that loop over the grid).
inline int gridFor(long long n, int threads, int maxBlocks = 65536) {
    return static_cast<int>(std::min<long long>((n + threads - 1) / threads, maxBlocks));
}

// C (m x n) = op(A) op(B) + beta C with row-major operands, as core/train/gemm_slices.h's
// gemmRows: transA means A is stored k x m, transB that B is stored n x k. Column-major cuBLAS
// computes the transpose, C^T = op(B)^T op(A)^T, from the same memory.
inline void gemmRowMajor(cublasHandle_t blas, bool transA, bool transB, int m, int n, int k,
                         const float* a, int lda, const float* b, int ldb, float beta, float* c,
                         int ldc) {
    const float one = 1.f;
    check(cublasSgemm(blas, transB ? CUBLAS_OP_T : CUBLAS_OP_N, transA ? CUBLAS_OP_T : CUBLAS_OP_N,
                      n, m, k, &one, b, ldb, a, lda, &beta, c, ldc),
          "cublasSgemm");
}

// Device memory for n elements of T; freed when it goes out of scope.
template <class T>
class DeviceBuffer {
public:
    DeviceBuffer() = default;
    explicit DeviceBuffer(std::size_t n) { resize(n); }
    DeviceBuffer(const DeviceBuffer&) = delete;
    DeviceBuffer& operator=(const DeviceBuffer&) = delete;
    DeviceBuffer(DeviceBuffer&& o) noexcept
        : m_data(std::exchange(o.m_data, nullptr)), m_size(std::exchange(o.m_size, 0)) {}
    DeviceBuffer& operator=(DeviceBuffer&& o) noexcept {
        std::swap(m_data, o.m_data);
        std::swap(m_size, o.m_size);
        return *this;
    }
    ~DeviceBuffer() {
        if (m_data) cudaFree(m_data);
    }

    // Grows to at least n elements (contents are not kept).
    void resize(std::size_t n) {
        if (n <= m_size) return;
        if (m_data) cudaFree(m_data);
        m_data = nullptr;
        m_size = 0;
        check(cudaMalloc(&m_data, n * sizeof(T)), "cudaMalloc");
        m_size = n;
    }
    void upload(const T* host, std::size_t n) {
        resize(n);
        if (n) check(cudaMemcpy(m_data, host, n * sizeof(T), cudaMemcpyHostToDevice), "upload");
    }
    void download(T* host, std::size_t n) const {
        if (n) check(cudaMemcpy(host, m_data, n * sizeof(T), cudaMemcpyDeviceToHost), "download");
    }
    T* data() const { return m_data; }
    std::size_t size() const { return m_size; }

private:
    T* m_data = nullptr;
    std::size_t m_size = 0;
};

// Makes `device` current for the calling thread (the window's worker lanes are threads).
inline void useDevice(int device) { check(cudaSetDevice(device), "cudaSetDevice"); }

}  // namespace cwb::cuda
