// Uploading weights to the GPU in their formats; see device_matrix.cuh.
#include <cuda_fp16.h>

#include <cstring>
#include <vector>

#include "core/llm/cuda/device_matrix.cuh"
#include "core/llm/linear.h"

namespace cwb::cudallm {

bool deviceNative(DType type) {
    switch (type) {
        case DType::F32:
        case DType::F16:
        case DType::BF16:
        case DType::Q8_0:
        case DType::Q4_0:
        case DType::Q4_K:
            return true;
        default:
            return false;
    }
}

namespace {

void copyUp(DeviceBuffer& to, const void* from, std::size_t bytes, cudaStream_t stream) {
    to.reserve(bytes);
    check(cudaMemcpyAsync(to.as<void>(), from, bytes, cudaMemcpyHostToDevice, stream),
          "copying weights to the GPU");
    check(cudaStreamSynchronize(stream), "copying weights to the GPU");  // the staging is freed
}

// Splits blocks of `blockBytes` into a head of `headBytes` (scales) and the rest (codes).
void uploadBlocks(DeviceMatrix& m, const std::byte* bytes, std::size_t blocks,
                  std::size_t blockBytes, std::size_t headBytes, std::size_t scaleBytes,
                  cudaStream_t stream) {
    const std::size_t codeBytes = blockBytes - headBytes;
    std::vector<std::byte> codes(blocks * codeBytes), scales(blocks * headBytes);
    for (std::size_t b = 0; b < blocks; ++b) {
        std::memcpy(scales.data() + b * headBytes, bytes + b * blockBytes, headBytes);
        std::memcpy(codes.data() + b * codeBytes, bytes + b * blockBytes + headBytes, codeBytes);
    }
    copyUp(m.codes, codes.data(), codes.size(), stream);
    if (scaleBytes == headBytes) {
        copyUp(m.scales, scales.data(), scales.size(), stream);
        return;
    }
    // Q4_K: the head is (d, dmin) then 12 bytes of packed scales; split those again.
    std::vector<std::byte> dm(blocks * scaleBytes), packed(blocks * (headBytes - scaleBytes));
    for (std::size_t b = 0; b < blocks; ++b) {
        std::memcpy(dm.data() + b * scaleBytes, scales.data() + b * headBytes, scaleBytes);
        std::memcpy(packed.data() + b * (headBytes - scaleBytes),
                    scales.data() + b * headBytes + scaleBytes, headBytes - scaleBytes);
    }
    copyUp(m.scales, dm.data(), dm.size(), stream);
    copyUp(m.kScales, packed.data(), packed.size(), stream);
}

}  // namespace

DeviceMatrix uploadMatrix(const Tensor& matrix, cudaStream_t stream) {
    DeviceMatrix m;
    m.rows = static_cast<int>(matrix.shape()[0]);
    m.cols = static_cast<int>(matrix.shape()[1]);
    const std::size_t rows = static_cast<std::size_t>(m.rows),
                      cols = static_cast<std::size_t>(m.cols);
    m.type = matrix.dtype();
    switch (m.type) {
        case DType::F32:
        case DType::F16:
        case DType::BF16:
            copyUp(m.codes, matrix.bytes(), matrix.byteSize(), stream);
            return m;
        case DType::Q8_0:
            uploadBlocks(m, matrix.bytes(), rows * cols / 32, 34, 2, 2, stream);
            return m;
        case DType::Q4_0:
            uploadBlocks(m, matrix.bytes(), rows * cols / 32, 18, 2, 2, stream);
            return m;
        case DType::Q4_K:
            uploadBlocks(m, matrix.bytes(), rows * cols / 256, 144, 16, 4, stream);
            return m;
        default:
            break;
    }
    // Formats without a GPU kernel: f16 values, a row at a time.
    m.type = DType::F16;
    std::vector<float> row(cols);
    std::vector<__half> values(rows * cols);
    for (std::size_t r = 0; r < rows; ++r) {
        tensorRowToFloat(matrix, static_cast<long long>(r), row.data());
        for (std::size_t c = 0; c < cols; ++c) values[r * cols + c] = __float2half_rn(row[c]);
    }
    copyUp(m.codes, values.data(), values.size() * sizeof(__half), stream);
    return m;
}

DeviceBuffer uploadFloats(const Tensor& vector, cudaStream_t stream) {
    const std::vector<float> values = vector.toFloatVector();
    DeviceBuffer b;
    copyUp(b, values.data(), values.size() * sizeof(float), stream);
    return b;
}

}  // namespace cwb::cudallm
