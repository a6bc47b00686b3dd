// Choosing an op per layer, and the slicing helper shared by the ops (see layer_op.h).
#include "core/train/layer_op.h"

#include "core/error.h"
#include "core/train/activation_math.h"
#include "core/util/parallel.h"

namespace cwb::train {

LayerOp::LayerOp(Layer& layer)
    : m_layer(&layer),
      m_inputSize(shapeElements(layer.inputShape)),
      m_outputSize(shapeElements(layer.outputShape)) {}

ImageGeometry imageGeometry(const Layer& layer) {
    const Shape& in = layer.inputShape;
    ImageGeometry g;
    g.h = static_cast<int>(in[0]);
    g.w = static_cast<int>(in.size() > 1 ? in[1] : 1);
    g.c = static_cast<int>(in.size() > 2 ? in[2] : 1);
    g.oh = static_cast<int>(layer.outputShape[0]);
    g.ow = static_cast<int>(layer.outputShape[1]);
    return g;
}

std::vector<Parameter> kernelParameters(Layer& layer, std::vector<float>& gradKernel,
                                        std::vector<float>& gradBias) {
    std::vector<Parameter> params{{layer.name + "/kernel", layer.kernel.mutableFloats().data(),
                                   gradKernel.data(), layer.kernel.elements()}};
    if (layer.useBias)
        params.push_back({layer.name + "/bias", layer.bias.mutableFloats().data(), gradBias.data(),
                          layer.bias.elements()});
    return params;
}

void forSlices(long long count, long long workPerItem, int threads,
               const std::function<void(long long, long long, int)>& body) {
    // Starting a thread costs about 50-200 us here; below ~256k element-operations the
    // work is cheaper done inline.
    constexpr long long kMinParallelWork = 1 << 18;
    if (threads <= 1 || count * workPerItem < kMinParallelWork) {
        if (count > 0) body(0, count, 0);
        return;
    }
    parallelFor(count, threads, body);
}

void activationForwardSlices(ActivationKind kind, float alpha, const float* z, float* y,
                             long long items, long long itemSize, int width, int threads) {
    forSlices(items, itemSize, threads, [&](long long b, long long e, int) {
        activationForward(kind, alpha, z + b * itemSize, y + b * itemSize, (e - b) * itemSize,
                          width);
    });
}

void activationBackwardSlices(ActivationKind kind, float alpha, const float* z, const float* y,
                              const float* dy, float* dz, long long items, long long itemSize,
                              int width, int threads) {
    forSlices(items, itemSize, threads, [&](long long b, long long e, int) {
        const long long o = b * itemSize;
        activationBackward(kind, alpha, z ? z + o : nullptr, y + o, dy + o, dz + o,
                           (e - b) * itemSize, width);
    });
}

std::unique_ptr<LayerOp> makeLayerOp(Layer& layer, bool finalLogits) {
    auto fail = [&](const std::string& what) -> std::unique_ptr<LayerOp> {
        throw Error("layer '" + layer.name + "' (" + layer.className + "): " + what);
    };
    ActivationKind activation = layer.activation;
    if (finalLogits && activation == ActivationKind::Softmax) activation = ActivationKind::Linear;
    if (activation == ActivationKind::HardSigmoid)
        return fail(
            "training does not support the activation 'hard_sigmoid' (Keras 2 and 3 define it "
            "differently); use sigmoid or relu");
    // Parameters become owned float32 copies: loaded tensors may be read-only views of a
    // file or another dtype, and training must never write into the user's file mapping.
    for (Tensor* t : {&layer.kernel, &layer.bias, &layer.gamma, &layer.beta, &layer.movingMean,
                      &layer.movingVariance})
        if (!t->empty()) *t = t->dtype() == DType::F32 ? t->clone() : t->toFloat32();
    switch (layer.kind) {
        case LayerKind::Dense:
            return makeDenseOp(layer, activation);
        case LayerKind::Conv2D:
            return makeConv2DOp(layer, activation);
        case LayerKind::MaxPooling2D:
        case LayerKind::AveragePooling2D:
            return makePoolOp(layer);
        case LayerKind::BatchNormalization:
            return makeBatchNormOp(layer);
        case LayerKind::Activation:
            return makeActivationOp(layer, activation);
        case LayerKind::Dropout:
            return makeDropoutOp(layer);
        case LayerKind::Input:
        case LayerKind::Flatten:
        case LayerKind::Reshape:
            return makeIdentityOp(layer);
    }
    return fail("unknown layer kind");
}

}  // namespace cwb::train
