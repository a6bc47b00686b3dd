// Mini-batch optimizers: SGD with (heavy-ball) momentum, and Adam with Keras's defaults.
// They update the parameters a TrainingGraph exposes, from the gradients it left there.
#pragma once

#include <string>
#include <vector>

#include "core/train/layer_op.h"

namespace cwb::train {

enum class OptimizerKind { Sgd, Adam };

// "sgd" / "adam"; returns false for anything else.
bool parseOptimizer(const std::string& name, OptimizerKind& out);
std::string optimizerName(OptimizerKind kind);

struct OptimizerOptions {
    OptimizerKind kind = OptimizerKind::Adam;
    double learningRate = 1e-3;
    double momentum = 0.9;                              // SGD
    double beta1 = 0.9, beta2 = 0.999, epsilon = 1e-7;  // Adam (Keras defaults)
};

class Optimizer {
public:
    Optimizer(std::vector<Parameter> parameters, const OptimizerOptions& options);

    // One update from the current gradients.
    //   SGD:  v = momentum v - lr g;  w += v
    //   Adam: m = b1 m + (1-b1) g; v = b2 v + (1-b2) g^2;
    //         w -= lr sqrt(1-b2^t)/(1-b1^t) m / (sqrt(v) + eps)   (Keras's form)
    void step(int threads);
    long long steps() const { return m_steps; }

private:
    std::vector<Parameter> m_parameters;
    OptimizerOptions m_options;
    std::vector<std::vector<float>> m_first, m_second;  // per parameter: velocity / moments
    long long m_steps = 0;
};

}  // namespace cwb::train
