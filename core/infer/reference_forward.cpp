// Naive layer-by-layer forward pass (see reference_forward.h).
#include "core/infer/reference_forward.h"

#include "core/error.h"
#include "core/infer/cpu/activations.h"
#include "core/infer/cpu/batch_norm.h"
#include "core/infer/cpu/conv2d.h"
#include "core/infer/cpu/dense.h"
#include "core/infer/cpu/pooling.h"
#include "core/infer/plan.h"

namespace cwb {
namespace {

const float* data(const std::vector<float>& v) { return v.empty() ? nullptr : v.data(); }
std::vector<float> floatsOf(const Tensor& t) {
    return t.empty() ? std::vector<float>{} : t.toFloatVector();
}

// (H, W) is (H, W, 1), as in Model::inferShapes.
void imageDims(const Shape& s, int& h, int& w, int& c) {
    h = static_cast<int>(s[0]);
    w = static_cast<int>(s[1]);
    c = s.size() > 2 ? static_cast<int>(s[2]) : 1;
}

int lastActivatingLayer(const Model& model) {
    for (int i = static_cast<int>(model.layers.size()) - 1; i >= 0; --i)
        if (model.layers[i].kind != LayerKind::Dropout) return i;
    return -1;
}

}  // namespace

std::vector<float> referenceForward(const Model& source, const float* input, int batch,
                                    bool logits) {
    if (!source.evaluable)
        throw Error(source.sourcePath + ": cannot be evaluated: " + source.notEvaluableReason);
    Model model = source;
    model.inferShapes();
    const int skipSoftmaxAt = logits && model.endsInSoftmax() ? lastActivatingLayer(model) : -1;
    std::vector<float> x(input, input + batch * shapeElements(model.inputShape));
    for (int li = 0; li < static_cast<int>(model.layers.size()); ++li) {
        const Layer& layer = model.layers[li];
        const long long outSize = shapeElements(layer.outputShape);
        std::vector<float> y(static_cast<std::size_t>(batch * outSize));
        int h = 0, w = 0, c = 0;
        switch (layer.kind) {
            case LayerKind::Input:
            case LayerKind::Dropout:
            case LayerKind::Flatten:
            case LayerKind::Reshape:
            case LayerKind::Activation:
                y = x;
                break;
            case LayerKind::Dense: {
                const int in = static_cast<int>(layer.kernel.shape()[0]);
                cpu::denseReference(x.data(), static_cast<long long>(x.size()) / in, in,
                                    layer.units, floatsOf(layer.kernel).data(),
                                    layer.useBias ? data(floatsOf(layer.bias)) : nullptr, y.data());
                break;
            }
            case LayerKind::Conv2D: {
                imageDims(layer.inputShape, h, w, c);
                const std::vector<float> bias =
                    layer.useBias ? floatsOf(layer.bias) : std::vector<float>{};
                cpu::conv2dReference(x.data(), batch, h, w, c, layer.conv,
                                     floatsOf(layer.kernel).data(), data(bias), y.data());
                break;
            }
            case LayerKind::MaxPooling2D:
            case LayerKind::AveragePooling2D:
                imageDims(layer.inputShape, h, w, c);
                if (layer.kind == LayerKind::MaxPooling2D)
                    cpu::maxPool2dReference(x.data(), batch, h, w, c, layer.pool, y.data());
                else
                    cpu::avgPool2dReference(x.data(), batch, h, w, c, layer.pool, y.data());
                break;
            case LayerKind::BatchNormalization: {
                const std::vector<float> gamma =
                    layer.batchNorm.scale ? floatsOf(layer.gamma) : std::vector<float>{};
                const std::vector<float> beta =
                    layer.batchNorm.center ? floatsOf(layer.beta) : std::vector<float>{};
                cpu::batchNormReference(x.data(), static_cast<long long>(x.size()),
                                        static_cast<int>(layer.outputShape.back()), data(gamma),
                                        data(beta), floatsOf(layer.movingMean).data(),
                                        floatsOf(layer.movingVariance).data(),
                                        layer.batchNorm.epsilon, y.data());
                break;
            }
        }
        const bool activates = layer.kind == LayerKind::Dense || layer.kind == LayerKind::Conv2D ||
                               layer.kind == LayerKind::Activation;
        if (activates && li != skipSoftmaxAt) {
            ActivationSpec spec;
            spec.kind = layer.activation;
            spec.alpha = layer.activation == ActivationKind::HardSigmoid ? hardSigmoidSlope(model)
                         : layer.activation == ActivationKind::Elu && layer.activationAlpha <= 0.f
                             ? 1.f
                             : layer.activationAlpha;
            spec.rowLength = static_cast<int>(layer.outputShape.back());
            std::vector<float> z(y.size());
            cpu::activationReference(spec, y.data(), static_cast<long long>(y.size()), z.data());
            y = std::move(z);
        }
        x = std::move(y);
    }
    return x;
}

}  // namespace cwb
