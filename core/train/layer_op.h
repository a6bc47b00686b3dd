// One layer's training-time computation: forward in training or inference mode, and the
// backward pass producing the input gradient and parameter gradients. An op works on a
// core::Layer in place (its kernel, bias, gamma, ... tensors are the trained parameters),
// so the trained model is the same Model a user saves or evaluates.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/model/layer.h"

namespace cwb::train {

// A trainable tensor and its gradient (same length), as the optimizer sees them.
struct Parameter {
    std::string name;  // "dense_1/kernel"
    float* value = nullptr;
    float* gradient = nullptr;
    long long size = 0;
};

struct StepContext {
    bool training = false;
    int threads = 1;
    // Varies per batch, so dropout draws a fresh mask each step; a pure function of
    // (seed, epoch, batch), so reruns draw the same masks.
    std::uint64_t stepSeed = 0;
};

class LayerOp {
public:
    virtual ~LayerOp() = default;

    // Output equals input, bit for bit, in this mode: the graph then shares the buffer
    // (Flatten, Reshape, Input, Dropout at inference).
    virtual bool isIdentity(bool /*training*/) const { return false; }

    // in: batch * inputSize floats; out: batch * outputSize floats.
    virtual void forward(const float* in, float* out, int batch, const StepContext& ctx) = 0;

    // Needs the in/out of the last forward (training mode). Writes parameter gradients
    // (overwriting, summed over the batch) and, when dIn is not null, the input gradient.
    // dOut may be modified (used as scratch).
    virtual void backward(const float* in, const float* out, float* dOut, float* dIn, int batch,
                          const StepContext& ctx) = 0;

    virtual std::vector<Parameter> parameters() { return {}; }

    const Layer& layer() const { return *m_layer; }
    long long inputSize() const { return m_inputSize; }
    long long outputSize() const { return m_outputSize; }

protected:
    explicit LayerOp(Layer& layer);
    Layer* m_layer;
    long long m_inputSize;
    long long m_outputSize;
};

// Input and output image sizes of a Conv2D or pooling layer, channels_last (a missing
// trailing axis counts as 1).
struct ImageGeometry {
    int h = 0, w = 0, c = 0;  // input
    int oh = 0, ow = 0;       // output
};
ImageGeometry imageGeometry(const Layer& layer);

// The trainable parameters of a Dense or Conv2D layer: its kernel and, where it has one, its
// bias, each with the gradient buffer of the same size.
std::vector<Parameter> kernelParameters(Layer& layer, std::vector<float>& gradKernel,
                                        std::vector<float>& gradBias);

// The op for `layer` (shapes already inferred). `finalLogits`: this is the model's last
// layer and its softmax is to be left out (the loss works on logits). Throws cwb::Error
// naming the layer for anything training does not support.
std::unique_ptr<LayerOp> makeLayerOp(Layer& layer, bool finalLogits);

// The per-kind factories behind makeLayerOp, one per source file.
std::unique_ptr<LayerOp> makeDenseOp(Layer& layer, ActivationKind activation);
std::unique_ptr<LayerOp> makeConv2DOp(Layer& layer, ActivationKind activation);
std::unique_ptr<LayerOp> makePoolOp(Layer& layer);
std::unique_ptr<LayerOp> makeBatchNormOp(Layer& layer);
std::unique_ptr<LayerOp> makeActivationOp(Layer& layer, ActivationKind activation);
std::unique_ptr<LayerOp> makeDropoutOp(Layer& layer);
std::unique_ptr<LayerOp> makeIdentityOp(Layer& layer);

// Runs body over [0, count) in `threads` fixed slices, or inline when the work is too
// small to pay for starting threads (about 100 us on this machine).
void forSlices(long long count, long long workPerItem, int threads,
               const std::function<void(long long begin, long long end, int worker)>& body);

// activationForward / activationBackward (activation_math.h) over `items` runs of `itemSize`
// values in forSlices' slices; softmax normalises each run of `width`. z may be null where
// y suffices for the slope; dz may alias dy.
void activationForwardSlices(ActivationKind kind, float alpha, const float* z, float* y,
                             long long items, long long itemSize, int width, int threads);
void activationBackwardSlices(ActivationKind kind, float alpha, const float* z, const float* y,
                              const float* dy, float* dz, long long items, long long itemSize,
                              int width, int threads);

}  // namespace cwb::train
