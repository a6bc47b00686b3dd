// SGD with momentum and Adam (see optimizer.h).
#include "core/train/optimizer.h"

#include <cmath>

namespace cwb::train {

bool parseOptimizer(const std::string& name, OptimizerKind& out) {
    if (name == "sgd") out = OptimizerKind::Sgd;
    else if (name == "adam") out = OptimizerKind::Adam;
    else return false;
    return true;
}

std::string optimizerName(OptimizerKind kind) { return kind == OptimizerKind::Sgd ? "sgd" : "adam"; }

Optimizer::Optimizer(std::vector<Parameter> parameters, const OptimizerOptions& options)
    : m_parameters(std::move(parameters)), m_options(options) {
    for (const auto& p : m_parameters) {
        m_first.emplace_back(static_cast<std::size_t>(p.size), 0.f);
        if (options.kind == OptimizerKind::Adam) m_second.emplace_back(static_cast<std::size_t>(p.size), 0.f);
    }
}

void Optimizer::step(int threads) {
    ++m_steps;
    const auto& o = m_options;
    const float lr = static_cast<float>(o.learningRate);
    if (o.kind == OptimizerKind::Sgd) {
        const float mu = static_cast<float>(o.momentum);
        for (std::size_t k = 0; k < m_parameters.size(); ++k) {
            const Parameter& p = m_parameters[k];
            float* vel = m_first[k].data();
            forSlices(p.size, 4, threads, [&](long long b, long long e, int) {
                for (long long i = b; i < e; ++i) {
                    vel[i] = mu * vel[i] - lr * p.gradient[i];
                    p.value[i] += vel[i];
                }
            });
        }
        return;
    }
    const double t = static_cast<double>(m_steps);
    const float step = static_cast<float>(o.learningRate * std::sqrt(1.0 - std::pow(o.beta2, t)) /
                                          (1.0 - std::pow(o.beta1, t)));
    const float b1 = static_cast<float>(o.beta1), b2 = static_cast<float>(o.beta2);
    const float eps = static_cast<float>(o.epsilon);
    for (std::size_t k = 0; k < m_parameters.size(); ++k) {
        const Parameter& p = m_parameters[k];
        float* m = m_first[k].data();
        float* v = m_second[k].data();
        forSlices(p.size, 8, threads, [&](long long b, long long e, int) {
            for (long long i = b; i < e; ++i) {
                const float g = p.gradient[i];
                m[i] = b1 * m[i] + (1.f - b1) * g;
                v[i] = b2 * v[i] + (1.f - b2) * g * g;
                p.value[i] -= step * m[i] / (std::sqrt(v[i]) + eps);
            }
        });
    }
}

}  // namespace cwb::train
