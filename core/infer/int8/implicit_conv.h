// int8 convolution read straight from a uint8 channels_last image, without patches
// ("implicit GEMM"), for valid (unpadded) Conv2D layers on CPUs with AVX-512 VNNI.
//
// Row i of the product is output pixel i. Its depth runs over the kernel rows in order; each
// kernel row is the kernelW * channels bytes that lie together in the image, read as whole
// 4-byte groups. So B must hold zeros for the bytes past a kernel row's end (packKernelRows;
// none are needed where kernelW * channels is a multiple of 4, which is plain Keras order),
// and the image buffer needs 3 readable bytes past its end.
#pragma once

#include <cstdint>

#include "core/infer/int8/int8_gemm.h"
#include "core/infer/window.h"

namespace cwb::int8 {

struct ImplicitConv {
    const std::uint8_t* image = nullptr;  // inH x inW x channels (+ 3 bytes of slack)
    int inW = 0, channels = 0;
    int kernelH = 0, kernelW = 0, strideH = 1, strideW = 1;
    int outH = 0, outW = 0;

    // The geometry of a convolution window; the image is set per call.
    static ImplicitConv of(const Window2D& w) {
        return {nullptr,   w.inW,     w.channels, w.kernelH, w.kernelW,
                w.strideH, w.strideW, w.outH,     w.outW};
    }
    int quadsPerKernelRow() const { return (kernelW * channels + 3) / 4; }
};

// B (k x n, k = kernelH * kernelW * channels) packed again with each kernel row padded to
// whole 4-byte groups.
PackedB packKernelRows(const PackedB& b, int kernelH, int kernelW, int channels);

bool implicitConvAvailable(const ImplicitConv& conv, const PackedB& b);

// The float result for one image, as Requant (int8_gemm.h) with one activation scale and
// zero point for all its pixels: for pixel i and filter j
//   t = C[i][j] - zero * colSums[j] (+ colOffset[j] * (sum over pixel i's patch of (code - zero)))
//   y = max(((step * colStep[j]) * float(t) + bias[j]) * scale[j] + shift[j], 0 if relu)
// where a missing bias, scale or shift is left out.
struct ImageRequant {
    float step = 1.f;
    std::int32_t zero = 0;
    const float* colStep = nullptr;
    const std::int32_t* colOffset = nullptr;
    const float* bias = nullptr;
    const float* scale = nullptr;
    const float* shift = nullptr;
    bool relu = false;
    float* out = nullptr;  // outH * outW rows of b.n floats
};

void convU8S8Implicit(const ImplicitConv& conv, const PackedB& b, const ImageRequant& q);

}  // namespace cwb::int8
