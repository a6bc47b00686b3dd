// Ops without a weight matrix (see unweighted_ops.h).
#include "core/infer/cpu/unweighted_ops.h"

#include <cstring>

#include "core/infer/cpu/activations.h"
#include "core/infer/cpu/batch_norm.h"
#include "core/infer/cpu/pooling.h"

namespace cwb::cpu {

bool runUnweightedOp(const PlanOp& op, const float* in, int n, float* out) {
    switch (op.kind) {
        case OpKind::Conv2D:
        case OpKind::Dense:
            return false;
        case OpKind::MaxPool2D:
            maxPool2d(op.window, in, n, out);
            return true;
        case OpKind::AvgPool2D:
            avgPool2d(op.window, in, n, out);
            return true;
        case OpKind::ChannelAffine:
            channelAffine(op.inFeatures, op.scale.data(),
                          op.bias.empty() ? nullptr : op.bias.data(), op.activation, in,
                          n * op.inputSize, out);
            return true;
        case OpKind::Activation:
            std::memcpy(out, in, sizeof(float) * static_cast<std::size_t>(n * op.inputSize));
            applyActivation(op.activation, out, n * op.inputSize);
            return true;
    }
    return false;
}

}  // namespace cwb::cpu
