// Shape inference and whole-model summaries (see model.h).
#include "core/model/model.h"

#include "core/error.h"

namespace cwb {
namespace {

// Per-sample activations beyond this come only from corrupt configs, and multiplying
// their dimensions would overflow.
constexpr std::int64_t kMaxActivationElements = std::int64_t(1) << 40;

[[noreturn]] void fail(const Model& model, const Layer& layer, const std::string& what) {
    throw Error(model.sourcePath + ": layer '" + layer.name + "' (" + layer.className +
                "): " + what);
}

// shapeElements with overflow and sanity checks, failing at `layer`.
std::int64_t checkedElements(const Model& model, const Layer& layer, const Shape& shape) {
    std::int64_t n = 1;
    for (const std::int64_t d : shape) {
        if (d < 0 || (d > 0 && n > kMaxActivationElements / d))
            fail(model, layer,
                 "shape " + shapeToString(shape) + " is too large; the model config is corrupt");
        n *= d;
    }
    return n;
}

void expectShape(const Model& model, const Layer& layer, const Tensor& t, const char* role,
                 const Shape& expected) {
    if (t.shape() != expected)
        fail(model, layer,
             std::string(role) + " has shape " + shapeToString(t.shape()) + ", expected " +
                 shapeToString(expected));
}

// Treats (H, W) as (H, W, 1) so that MLPs fed with 28x28 and CNNs fed with 28x28x1 agree.
Shape asImage(const Model& model, const Layer& layer, Shape shape) {
    if (shape.size() == 2) shape.push_back(1);
    if (shape.size() != 3)
        fail(model, layer, "needs an image input (H, W, C), got " + shapeToString(shape));
    return shape;
}

Shape inferLayer(const Model& model, Layer& layer, const Shape& in) {
    switch (layer.kind) {
        case LayerKind::Input:
        case LayerKind::Dropout:
        case LayerKind::Activation:
            return in;
        case LayerKind::Flatten:
            return {checkedElements(model, layer, in)};
        case LayerKind::Reshape: {
            Shape target = layer.targetShape;
            Shape knownDims;
            long long unknownAt = -1;
            for (std::size_t i = 0; i < target.size(); ++i) {
                if (target[i] == -1)
                    unknownAt = static_cast<long long>(i);
                else
                    knownDims.push_back(target[i]);
            }
            const std::int64_t known = checkedElements(model, layer, knownDims);
            const std::int64_t inElements = checkedElements(model, layer, in);
            if (unknownAt >= 0 && known > 0) target[unknownAt] = inElements / known;
            if (checkedElements(model, layer, target) != inElements)
                fail(model, layer,
                     "cannot reshape " + shapeToString(in) + " to " + shapeToString(target));
            return target;
        }
        case LayerKind::Dense: {
            const long long inFeatures = in.empty() ? 0 : in.back();
            expectShape(model, layer, layer.kernel, "kernel", {inFeatures, layer.units});
            if (layer.useBias) expectShape(model, layer, layer.bias, "bias", {layer.units});
            Shape out = in;
            out.back() = layer.units;
            return out;
        }
        case LayerKind::Conv2D: {
            const Shape img = asImage(model, layer, in);
            const auto& c = layer.conv;
            expectShape(model, layer, layer.kernel, "kernel",
                        {c.kernelH, c.kernelW, img[2], c.filters});
            if (layer.useBias) expectShape(model, layer, layer.bias, "bias", {c.filters});
            const long long h = windowOutputSize(img[0], c.kernelH, c.strideH, c.padding);
            const long long w = windowOutputSize(img[1], c.kernelW, c.strideW, c.padding);
            if (h <= 0 || w <= 0)
                fail(model, layer, "input " + shapeToString(img) + " is smaller than the kernel");
            return {h, w, c.filters};
        }
        case LayerKind::MaxPooling2D:
        case LayerKind::AveragePooling2D: {
            const Shape img = asImage(model, layer, in);
            const auto& p = layer.pool;
            const long long h = windowOutputSize(img[0], p.poolH, p.strideH, p.padding);
            const long long w = windowOutputSize(img[1], p.poolW, p.strideW, p.padding);
            if (h <= 0 || w <= 0)
                fail(model, layer, "input " + shapeToString(img) + " is smaller than the pool");
            return {h, w, img[2]};
        }
        case LayerKind::BatchNormalization: {
            const Shape channels{in.empty() ? 0 : in.back()};
            if (layer.batchNorm.scale) expectShape(model, layer, layer.gamma, "gamma", channels);
            if (layer.batchNorm.center) expectShape(model, layer, layer.beta, "beta", channels);
            expectShape(model, layer, layer.movingMean, "moving_mean", channels);
            expectShape(model, layer, layer.movingVariance, "moving_variance", channels);
            return in;
        }
    }
    return in;
}

}  // namespace

void Model::inferShapes() {
    Shape current = inputShape;
    for (Layer& layer : layers) {
        layer.inputShape = current;
        checkedElements(*this, layer, current);
        current = inferLayer(*this, layer, current);
        checkedElements(*this, layer, current);
        layer.outputShape = current;
    }
}

long long Model::parameterCount() const {
    long long n = 0;
    for (const auto& layer : layers) n += layer.parameterCount();
    if (layers.empty())
        for (const auto& t : tensors) n += t.tensor.elements();
    return n;
}

double Model::flopsPerSample() const {
    double n = 0;
    for (const auto& layer : layers) n += layer.flopsPerSample();
    return n;
}

Shape Model::outputShape() const { return layers.empty() ? inputShape : layers.back().outputShape; }

bool Model::endsInSoftmax() const {
    for (auto it = layers.rbegin(); it != layers.rend(); ++it) {
        if (it->kind == LayerKind::Dropout) continue;
        return it->activation == ActivationKind::Softmax;
    }
    return false;
}

int Model::findLayer(const std::string& name) const {
    for (std::size_t i = 0; i < layers.size(); ++i)
        if (layers[i].name == name) return static_cast<int>(i);
    return -1;
}

}  // namespace cwb
