// Forward and backward over the op list (see training_graph.h).
#include "core/train/training_graph.h"

#include "core/error.h"

namespace cwb::train {

TrainingGraph::TrainingGraph(Model& model, const GraphOptions& options)
    : m_model(model), m_options(options) {
    if (!model.evaluable)
        throw Error(model.sourcePath + ": cannot train this model: " +
                    (model.notEvaluableReason.empty() ? "it has no architecture"
                                                      : model.notEvaluableReason));
    if (model.layers.empty())
        throw Error(model.sourcePath + ": cannot train a model without layers");
    model.inferShapes();
    // The layer whose softmax becomes the logits: the last one that is not a Dropout.
    int logitsLayer = -1;
    if (options.logits && model.endsInSoftmax()) {
        for (int i = static_cast<int>(model.layers.size()) - 1; i >= 0; --i)
            if (model.layers[i].kind != LayerKind::Dropout) {
                logitsLayer = i;
                break;
            }
    }
    for (std::size_t i = 0; i < model.layers.size(); ++i) {
        try {
            m_ops.push_back(makeLayerOp(model.layers[i], static_cast<int>(i) == logitsLayer));
        } catch (const Error& e) {
            throw Error(model.sourcePath + ": " + e.what());
        }
        for (auto& p : m_ops.back()->parameters()) m_parameters.push_back(p);
    }
    m_inputSize = shapeElements(model.inputShape);
    m_outputSize = shapeElements(model.outputShape());
    // dIn of op i is needed when some op before it has parameters, or the caller asks.
    bool upstreamParams = options.inputGradient;
    m_needsInputGradient.resize(m_ops.size());
    for (std::size_t i = 0; i < m_ops.size(); ++i) {
        m_needsInputGradient[i] = upstreamParams;
        m_hasParameters.push_back(!m_ops[i]->parameters().empty());
        if (m_hasParameters.back()) upstreamParams = true;
    }
    m_outputs.resize(m_ops.size());
    m_gradients.resize(m_ops.size());
    m_activations.resize(m_ops.size() + 1);
}

const float* TrainingGraph::forward(const float* input, int batch, const StepContext& ctx) {
    m_activations[0] = input;
    for (std::size_t i = 0; i < m_ops.size(); ++i) {
        LayerOp& op = *m_ops[i];
        if (op.isIdentity(ctx.training)) {
            m_activations[i + 1] = m_activations[i];
            continue;
        }
        auto& out = m_outputs[i];
        const auto needed = static_cast<std::size_t>(batch * op.outputSize());
        if (out.size() < needed) out.resize(needed);
        op.forward(m_activations[i], out.data(), batch, ctx);
        m_activations[i + 1] = out.data();
    }
    m_lastForwardTraining = ctx.training;
    return m_activations.back();
}

void TrainingGraph::backward(float* dOutput, int batch, const StepContext& ctx) {
    if (!m_lastForwardTraining)
        throw Error("internal: backward needs a training-mode forward first");
    float* dOut = dOutput;
    m_inputGradient = nullptr;
    for (std::size_t i = m_ops.size(); i-- > 0;) {
        LayerOp& op = *m_ops[i];
        const bool needIn = m_needsInputGradient[i];
        if (op.isIdentity(true)) {
            if (!needIn && !m_hasParameters[i]) break;
            continue;  // the gradient passes through unchanged
        }
        float* dIn = nullptr;
        if (needIn) {
            auto& g = m_gradients[i];
            const auto needed = static_cast<std::size_t>(batch * op.inputSize());
            if (g.size() < needed) g.resize(needed);
            dIn = g.data();
        }
        op.backward(m_activations[i], m_activations[i + 1], dOut, dIn, batch, ctx);
        if (!dIn) break;
        dOut = dIn;
    }
    if (m_options.inputGradient) m_inputGradient = dOut;
}

}  // namespace cwb::train
