// TensorFlow window padding (see window.h).
#include "core/infer/window.h"

#include <algorithm>

namespace cwb {
namespace {

int leadingPad(int in, int out, int kernel, int stride, Padding padding) {
    if (padding == Padding::Valid) return 0;
    const int total = std::max((out - 1) * stride + kernel - in, 0);
    return total / 2;
}

}  // namespace

Window2D makeWindow2D(int inH, int inW, int channels, int kernelH, int kernelW, int strideH,
                      int strideW, Padding padding) {
    Window2D w;
    w.inH = inH;
    w.inW = inW;
    w.channels = channels;
    w.kernelH = kernelH;
    w.kernelW = kernelW;
    w.strideH = strideH;
    w.strideW = strideW;
    w.outH = static_cast<int>(windowOutputSize(inH, kernelH, strideH, padding));
    w.outW = static_cast<int>(windowOutputSize(inW, kernelW, strideW, padding));
    w.padTop = leadingPad(inH, w.outH, kernelH, strideH, padding);
    w.padLeft = leadingPad(inW, w.outW, kernelW, strideW, padding);
    return w;
}

}  // namespace cwb
