// A model compiled for inference: a flat list of ops with their weights prepared once
// (BatchNormalization folded into the preceding Conv2D/Dense, activations fused into the op
// that produces their input, no-op layers dropped). The plan says what to compute, not how:
// the CPU engine runs it with its kernels, a GPU engine can upload the same arrays.
#pragma once

#include <string>
#include <vector>

#include "core/infer/window.h"
#include "core/model/model.h"

namespace cwb {

// An activation as the kernels apply it. `alpha` carries the one parameter some kinds have:
// LeakyRelu slope, Elu alpha, HardSigmoid slope (Keras 2: 0.2, Keras 3: 1/6).
// Softmax normalises consecutive rows of `rowLength` values (the layer's last axis).
struct ActivationSpec {
    ActivationKind kind = ActivationKind::Linear;
    float alpha = 0.f;
    int rowLength = 0;

    bool isLinear() const { return kind == ActivationKind::Linear; }
};

enum class OpKind {
    Conv2D,         // window, weights (kh*kw*cin, cout) row-major = Keras layout, bias, activation
    Dense,          // weights (in, out), bias, activation; applied to the last axis
    MaxPool2D,      // window
    AvgPool2D,      // window; 'same' divides by the number of non-padded elements
    ChannelAffine,  // x * scale[c] + shift[c] over the last axis (an unfolded BatchNormalization),
                    // activation
    Activation,     // activation alone
};

struct PlanOp {
    OpKind kind = OpKind::Activation;
    std::string layerName;  // the (last) layer this op computes, for messages and profiles

    Window2D window;      // Conv2D and pooling
    int inFeatures = 0;   // Dense: length of the last axis in; ChannelAffine: channel count
    int outFeatures = 0;  // Dense: units; Conv2D: filters
    std::vector<float> weights;
    std::vector<float> bias;   // Conv2D/Dense (may be empty), ChannelAffine shift
    std::vector<float> scale;  // ChannelAffine
    ActivationSpec activation;

    long long inputSize = 0;   // floats per sample
    long long outputSize = 0;  // floats per sample
    double flopsPerSample = 0;
};

struct PlanOptions {
    bool logits = false;        // drop a final softmax
    bool foldBatchNorm = true;  // fold BatchNormalization into the preceding Conv2D/Dense
    bool fuseActivations = true;
};

struct Plan {
    long long inputSize = 0;  // floats per sample
    long long outputSize = 0;
    std::vector<PlanOp> ops;
};

// Throws cwb::Error (naming the file and layer) if the model is not evaluable or a layer
// cannot be run.
Plan compilePlan(const Model& model, const PlanOptions& options = {});

// The HardSigmoid slope a model's Keras version uses (Keras 3 changed it from 0.2 to 1/6).
float hardSigmoidSlope(const Model& model);

}  // namespace cwb
