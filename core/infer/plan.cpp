// Compiling a Model into a Plan (see plan.h).
#include "core/infer/plan.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"

namespace cwb {
namespace {

[[noreturn]] void fail(const Model& model, const Layer& layer, const std::string& what) {
    throw Error(model.sourcePath + ": layer '" + layer.name + "' (" + layerKindName(layer.kind) +
                "): " + what);
}

// Strides and windows of 0 would divide by zero in shape inference: refuse them first.
void checkWindowConfig(const Model& model, const Layer& layer) {
    int kh = 1, kw = 1, sh = 1, sw = 1;
    if (layer.kind == LayerKind::Conv2D) {
        kh = layer.conv.kernelH, kw = layer.conv.kernelW, sh = layer.conv.strideH,
        sw = layer.conv.strideW;
        if (layer.conv.filters <= 0) fail(model, layer, "has no filters; the file is corrupt");
    } else if (layer.kind == LayerKind::MaxPooling2D || layer.kind == LayerKind::AveragePooling2D) {
        kh = layer.pool.poolH, kw = layer.pool.poolW, sh = layer.pool.strideH,
        sw = layer.pool.strideW;
    }
    if (kh <= 0 || kw <= 0 || sh <= 0 || sw <= 0)
        fail(model, layer,
             "window " + std::to_string(kh) + "x" + std::to_string(kw) + " with strides " +
                 std::to_string(sh) + "x" + std::to_string(sw) +
                 " is not valid; the file is corrupt");
}

Shape asImage(const Model& model, const Layer& layer, Shape shape) {
    if (shape.size() == 2) shape.push_back(1);
    if (shape.size() != 3)
        fail(model, layer, "needs an image input (H, W, C), got " + shapeToString(shape));
    return shape;
}

Window2D windowOf(const Model& model, const Layer& layer) {
    const Shape img = asImage(model, layer, layer.inputShape);
    const bool conv = layer.kind == LayerKind::Conv2D;
    const int kh = conv ? layer.conv.kernelH : layer.pool.poolH;
    const int kw = conv ? layer.conv.kernelW : layer.pool.poolW;
    const int sh = conv ? layer.conv.strideH : layer.pool.strideH;
    const int sw = conv ? layer.conv.strideW : layer.pool.strideW;
    const Padding padding = conv ? layer.conv.padding : layer.pool.padding;
    return makeWindow2D(static_cast<int>(img[0]), static_cast<int>(img[1]),
                        static_cast<int>(img[2]), kh, kw, sh, sw, padding);
}

std::vector<float> floatsOf(const Tensor& t) {
    return t.empty() ? std::vector<float>{} : t.toFloatVector();
}

ActivationSpec activationSpec(const Model& model, ActivationKind kind, float alpha,
                              const Shape& shape) {
    ActivationSpec spec;
    spec.kind = kind;
    spec.rowLength = shape.empty() ? 1 : static_cast<int>(shape.back());
    switch (kind) {
        case ActivationKind::LeakyRelu:
            spec.alpha = alpha;
            break;
        case ActivationKind::Elu:
            spec.alpha = alpha > 0.f ? alpha : 1.f;
            break;  // Keras 'elu': alpha 1
        case ActivationKind::HardSigmoid:
            spec.alpha = hardSigmoidSlope(model);
            break;
        default:
            break;
    }
    return spec;
}

// Channels of the last axis an op writes; what a fused softmax or a folded BatchNormalization
// must agree with.
int outputChannels(const PlanOp& op) {
    switch (op.kind) {
        case OpKind::Conv2D:
        case OpKind::Dense:
            return op.outFeatures;
        case OpKind::ChannelAffine:
            return op.inFeatures;
        default:
            return 0;
    }
}

bool canFuse(const std::vector<PlanOp>& ops, const ActivationSpec& spec) {
    if (ops.empty()) return false;
    const PlanOp& last = ops.back();
    if (last.kind != OpKind::Conv2D && last.kind != OpKind::Dense &&
        last.kind != OpKind::ChannelAffine)
        return false;
    if (!last.activation.isLinear()) return false;
    // The epilogue works on whole output rows of the op; softmax rows must be those rows.
    return spec.kind != ActivationKind::Softmax || spec.rowLength == outputChannels(last);
}

// Per-channel scale and shift of an inference-mode BatchNormalization, in double.
void batchNormAffine(const Model& model, const Layer& layer, std::vector<double>& scale,
                     std::vector<double>& shift) {
    const std::vector<float> mean = floatsOf(layer.movingMean),
                             var = floatsOf(layer.movingVariance);
    const std::vector<float> gamma =
        layer.batchNorm.scale ? floatsOf(layer.gamma) : std::vector<float>{};
    const std::vector<float> beta =
        layer.batchNorm.center ? floatsOf(layer.beta) : std::vector<float>{};
    const std::size_t channels = mean.size();
    scale.resize(channels);
    shift.resize(channels);
    for (std::size_t c = 0; c < channels; ++c) {
        const double denom = static_cast<double>(var[c]) + layer.batchNorm.epsilon;
        if (!(denom > 0.0))
            fail(model, layer,
                 "moving_variance + epsilon is not positive at channel " + std::to_string(c) +
                     "; the file is corrupt");
        const double g = gamma.empty() ? 1.0 : gamma[c];
        scale[c] = g / std::sqrt(denom);
        shift[c] = (beta.empty() ? 0.0 : beta[c]) - mean[c] * scale[c];
    }
}

void foldBatchNorm(PlanOp& op, const std::vector<double>& scale, const std::vector<double>& shift) {
    const std::size_t n = static_cast<std::size_t>(op.outFeatures);
    for (std::size_t i = 0; i < op.weights.size(); ++i)
        op.weights[i] = static_cast<float>(op.weights[i] * scale[i % n]);
    if (op.bias.empty()) op.bias.assign(n, 0.f);
    for (std::size_t c = 0; c < n; ++c)
        op.bias[c] = static_cast<float>(op.bias[c] * scale[c] + shift[c]);
}

PlanOp computeOp(const Model& model, const Layer& layer) {
    PlanOp op;
    op.layerName = layer.name;
    op.inputSize = shapeElements(layer.inputShape);
    op.outputSize = shapeElements(layer.outputShape);
    switch (layer.kind) {
        case LayerKind::Dense:
            op.kind = OpKind::Dense;
            op.inFeatures = static_cast<int>(layer.kernel.shape()[0]);
            op.outFeatures = layer.units;
            op.weights = floatsOf(layer.kernel);
            if (layer.useBias) op.bias = floatsOf(layer.bias);
            break;
        case LayerKind::Conv2D:
            op.kind = OpKind::Conv2D;
            op.window = windowOf(model, layer);
            op.outFeatures = layer.conv.filters;
            op.weights = floatsOf(layer.kernel);
            if (layer.useBias) op.bias = floatsOf(layer.bias);
            break;
        case LayerKind::MaxPooling2D:
        case LayerKind::AveragePooling2D:
            op.kind = layer.kind == LayerKind::MaxPooling2D ? OpKind::MaxPool2D : OpKind::AvgPool2D;
            op.window = windowOf(model, layer);
            break;
        default:
            fail(model, layer, "is not a computing layer");
    }
    op.flopsPerSample = layer.flopsPerSample();
    op.activation =
        activationSpec(model, layer.activation, layer.activationAlpha, layer.outputShape);
    return op;
}

void addActivation(std::vector<PlanOp>& ops, const ActivationSpec& spec, const Layer& layer,
                   bool fuse) {
    if (spec.isLinear()) return;
    if (fuse && canFuse(ops, spec)) {
        ops.back().activation = spec;
        ops.back().layerName = layer.name;
        return;
    }
    PlanOp op;
    op.kind = OpKind::Activation;
    op.layerName = layer.name;
    op.inputSize = op.outputSize = shapeElements(layer.outputShape);
    op.activation = spec;
    ops.push_back(std::move(op));
}

}  // namespace

float hardSigmoidSlope(const Model& model) {
    return model.format.find("Keras 3") != std::string::npos ? 1.f / 6.f : 0.2f;
}

Plan compilePlan(const Model& source, const PlanOptions& options) {
    if (!source.evaluable)
        throw Error(source.sourcePath + ": cannot be evaluated: " +
                    (source.notEvaluableReason.empty() ? "the file holds no runnable model"
                                                       : source.notEvaluableReason));
    for (const Layer& layer : source.layers) checkWindowConfig(source, layer);
    Model model = source;  // shares the weight storage; only shapes are recomputed
    model.inferShapes();

    Plan plan;
    plan.inputSize = shapeElements(model.inputShape);
    plan.outputSize = shapeElements(model.outputShape());
    auto& ops = plan.ops;
    for (const Layer& layer : model.layers) {
        switch (layer.kind) {
            case LayerKind::Input:
            case LayerKind::Dropout:  // identity at inference
            case LayerKind::Flatten:  // channels_last memory order is already the flat order
            case LayerKind::Reshape:
                break;
            case LayerKind::Dense:
            case LayerKind::Conv2D:
            case LayerKind::MaxPooling2D:
            case LayerKind::AveragePooling2D: {
                PlanOp op = computeOp(model, layer);
                const ActivationSpec spec = op.activation;
                op.activation = {};
                ops.push_back(std::move(op));
                addActivation(ops, spec, layer,
                              true);  // the epilogue of its own op, or a separate op after pooling
                break;
            }
            case LayerKind::BatchNormalization: {
                std::vector<double> scale, shift;
                batchNormAffine(model, layer, scale, shift);
                const int channels = static_cast<int>(scale.size());
                PlanOp* prev = ops.empty() ? nullptr : &ops.back();
                if (options.foldBatchNorm && prev &&
                    (prev->kind == OpKind::Conv2D || prev->kind == OpKind::Dense) &&
                    prev->activation.isLinear() && prev->outFeatures == channels) {
                    foldBatchNorm(*prev, scale, shift);
                    prev->layerName = layer.name;
                    break;
                }
                PlanOp op;
                op.kind = OpKind::ChannelAffine;
                op.layerName = layer.name;
                op.inFeatures = channels;
                op.inputSize = op.outputSize = shapeElements(layer.outputShape);
                op.scale.assign(scale.begin(), scale.end());
                op.bias.assign(shift.begin(), shift.end());
                ops.push_back(std::move(op));
                break;
            }
            case LayerKind::Activation:
                addActivation(ops,
                              activationSpec(model, layer.activation, layer.activationAlpha,
                                             layer.outputShape),
                              layer, options.fuseActivations);
                break;
        }
    }
    if (options.logits && !ops.empty() && ops.back().activation.kind == ActivationKind::Softmax) {
        if (ops.back().kind == OpKind::Activation)
            ops.pop_back();
        else
            ops.back().activation = {};
    }
    return plan;
}

}  // namespace cwb
