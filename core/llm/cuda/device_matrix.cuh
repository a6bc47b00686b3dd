// A weight matrix [rows, cols] on the GPU in its own format. Block formats are split into
// structure-of-arrays, the same bytes regrouped so that every thread loads 16 aligned bytes:
//   Q8_0: codes int8 [rows, cols], scales f16 [rows, cols / 32];
//   Q4_0: codes [rows, cols / 32, 16 bytes] (element j in the low nibble of byte j, j + 16 in
//         the high), scales f16 [rows, cols / 32];
//   Q4_K: codes [rows, cols / 256, 128 bytes], (d, dmin) f16 pairs [rows, cols / 256], packed
//         6-bit scales and minimums [rows, cols / 256, 12 bytes].
// F32, F16 and BF16 are row-major values; any other type is widened to F16 on upload.
#pragma once

#include <cstdint>

#include "core/llm/cuda/cuda_util.cuh"
#include "core/model/tensor.h"

namespace cwb::cudallm {

struct DeviceMatrix {
    DType type = DType::F32;
    int rows = 0, cols = 0;
    DeviceBuffer codes;    // values or block codes
    DeviceBuffer scales;   // Q8_0 / Q4_0: f16 per block; Q4_K: (d, dmin) per super-block
    DeviceBuffer kScales;  // Q4_K: 12 bytes per super-block

    std::size_t deviceBytes() const { return codes.bytes() + scales.bytes() + kScales.bytes(); }
};

// True for the types the kernels read directly.
bool deviceNative(DType type);

// `matrix` (2-D, any dtype linear() supports) copied to the GPU as above.
DeviceMatrix uploadMatrix(const Tensor& matrix, cudaStream_t stream);

// A 1-D tensor as float32 on the GPU.
DeviceBuffer uploadFloats(const Tensor& vector, cudaStream_t stream);

}  // namespace cwb::cudallm
