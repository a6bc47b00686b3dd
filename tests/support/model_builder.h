// Hand-built Keras-like models with seeded random weights, for tests of engines and kernels
// that must not depend on a file reader.
#pragma once

#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "core/model/model.h"

namespace cwb::test {

class ModelBuilder {
public:
    explicit ModelBuilder(Shape inputShape, unsigned seed = 1) : m_rng(seed) {
        m_model.sourcePath = "hand-built";
        m_model.format = "test";
        m_model.evaluable = true;
        m_model.inputShape = std::move(inputShape);
    }

    Tensor random(const Shape& shape, float scale) {
        std::normal_distribution<float> dist(0.f, scale);
        std::vector<float> v(static_cast<std::size_t>(shapeElements(shape)));
        for (float& x : v) x = dist(m_rng);
        return Tensor::fromFloats(shape, std::move(v));
    }

    ModelBuilder& conv(int inC, int filters, int k, int stride, Padding padding,
                       ActivationKind act = ActivationKind::Linear, bool bias = true) {
        Layer l = named(LayerKind::Conv2D, "Conv2D");
        l.conv = {filters, k, k, stride, stride, padding};
        l.activation = act;
        l.useBias = bias;
        l.kernel = random({k, k, inC, filters}, 1.f / std::sqrt(float(k * k * inC)));
        if (bias) l.bias = random({filters}, 0.1f);
        return add(std::move(l));
    }
    ModelBuilder& dense(int in, int units, ActivationKind act = ActivationKind::Linear) {
        Layer l = named(LayerKind::Dense, "Dense");
        l.units = units;
        l.activation = act;
        l.kernel = random({in, units}, 1.f / std::sqrt(float(in)));
        l.bias = random({units}, 0.1f);
        return add(std::move(l));
    }
    ModelBuilder& batchNorm(int channels, bool center = true, bool scale = true) {
        Layer l = named(LayerKind::BatchNormalization, "BatchNormalization");
        l.batchNorm = {1e-3f, center, scale};
        if (scale) l.gamma = random({channels}, 1.f);
        if (center) l.beta = random({channels}, 0.5f);
        l.movingMean = random({channels}, 0.5f);
        l.movingVariance = random({channels}, 1.f);
        for (float& v : l.movingVariance.mutableFloats()) v = std::fabs(v) + 0.05f;
        return add(std::move(l));
    }
    ModelBuilder& pool(LayerKind kind, int size, int stride, Padding padding) {
        Layer l =
            named(kind, kind == LayerKind::MaxPooling2D ? "MaxPooling2D" : "AveragePooling2D");
        l.pool = {size, size, stride, stride, padding};
        return add(std::move(l));
    }
    ModelBuilder& activation(ActivationKind act, float alpha = 0.f) {
        Layer l = named(LayerKind::Activation, "Activation");
        l.activation = act;
        l.activationAlpha = alpha;
        return add(std::move(l));
    }
    ModelBuilder& layer(LayerKind kind, const std::string& className) {
        return add(named(kind, className));
    }
    ModelBuilder& reshape(Shape target) {
        Layer l = named(LayerKind::Reshape, "Reshape");
        l.targetShape = std::move(target);
        return add(std::move(l));
    }

    Model build() {
        Model m = m_model;
        m.inferShapes();
        return m;
    }

    std::vector<float> randomInput(int batch, float lo = 0.f, float hi = 1.f) {
        std::uniform_real_distribution<float> dist(lo, hi);
        std::vector<float> v(static_cast<std::size_t>(batch * shapeElements(m_model.inputShape)));
        for (float& x : v) x = dist(m_rng);
        return v;
    }

private:
    Layer named(LayerKind kind, const std::string& className) {
        Layer l;
        l.kind = kind;
        l.className = className;
        l.name = className + "_" + std::to_string(m_model.layers.size());
        return l;
    }
    ModelBuilder& add(Layer l) {
        m_model.layers.push_back(std::move(l));
        return *this;
    }

    Model m_model;
    std::mt19937 m_rng;
};

}  // namespace cwb::test
