// A Model compiled for training: one op per layer, the activations of the last forward
// pass kept for the backward pass, and the parameter list the optimizer updates. The
// graph edits the Model's tensors in place, so after training the Model is the result.
#pragma once

#include <memory>
#include <vector>

#include "core/model/model.h"
#include "core/train/layer_op.h"

namespace cwb::train {

struct GraphOptions {
    // Stop before the model's final softmax (the losses work on logits). When false the
    // graph outputs what the model outputs.
    bool logits = true;
    // Compute the gradient with respect to the input as well (gradient checks).
    bool inputGradient = false;
};

class TrainingGraph {
public:
    // Throws cwb::Error for a model that is not evaluable or has a layer training does not
    // support. `model` must outlive the graph.
    explicit TrainingGraph(Model& model, const GraphOptions& options = {});

    long long inputSize() const { return m_inputSize; }
    long long outputSize() const { return m_outputSize; }

    // input: batch * inputSize() floats. Returns batch * outputSize() floats, valid until
    // the next forward. Training mode uses batch statistics and dropout.
    const float* forward(const float* input, int batch, const StepContext& ctx);

    // After a training-mode forward: back-propagates dOutput (batch * outputSize floats,
    // used as scratch) and leaves each parameter's gradient in Parameter::gradient.
    void backward(float* dOutput, int batch, const StepContext& ctx);

    // Valid after backward when GraphOptions::inputGradient.
    const float* inputGradient() const { return m_inputGradient; }

    std::vector<Parameter>& parameters() { return m_parameters; }
    Model& model() { return m_model; }

private:
    Model& m_model;
    GraphOptions m_options;
    std::vector<std::unique_ptr<LayerOp>> m_ops;
    std::vector<Parameter> m_parameters;
    std::vector<bool> m_needsInputGradient;  // per op: is dIn consumed upstream
    std::vector<bool> m_hasParameters;
    long long m_inputSize = 0, m_outputSize = 0;

    std::vector<std::vector<float>> m_outputs;    // per op's own output storage
    std::vector<const float*> m_activations;      // [0] = input, [i + 1] = op i's output
    std::vector<std::vector<float>> m_gradients;  // per op's input-gradient storage
    const float* m_inputGradient = nullptr;
    bool m_lastForwardTraining = false;
};

}  // namespace cwb::train
