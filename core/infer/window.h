// Geometry of a 2-D sliding window (convolution or pooling) over channels_last images,
// with TensorFlow's padding rules resolved once so that every backend uses the same numbers.
#pragma once

#include "core/model/layer.h"

namespace cwb {

struct Window2D {
    int inH = 0, inW = 0, channels = 0;  // input per sample (channels = input channels)
    int kernelH = 1, kernelW = 1;
    int strideH = 1, strideW = 1;
    int outH = 0, outW = 0;
    // TF 'same': total = max((out - 1) * stride + kernel - in, 0); the smaller half goes on
    // the top/left, the extra element on the bottom/right. Zero for 'valid'.
    int padTop = 0, padLeft = 0;

    long long inputSize() const { return static_cast<long long>(inH) * inW * channels; }
    long long outputPixels() const { return static_cast<long long>(outH) * outW; }
};

Window2D makeWindow2D(int inH, int inW, int channels, int kernelH, int kernelW, int strideH,
                      int strideW, Padding padding);

}  // namespace cwb
