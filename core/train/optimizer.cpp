// SGD with momentum and Adam (see optimizer.h).
#include "core/train/optimizer.h"

#include <cmath>

#if defined(__AVX512F__)
#include <immintrin.h>
#endif

namespace cwb::train {

bool parseOptimizer(const std::string& name, OptimizerKind& out) {
    if (name == "sgd")
        out = OptimizerKind::Sgd;
    else if (name == "adam")
        out = OptimizerKind::Adam;
    else
        return false;
    return true;
}

std::string optimizerName(OptimizerKind kind) {
    return kind == OptimizerKind::Sgd ? "sgd" : "adam";
}

Optimizer::Optimizer(std::vector<Parameter> parameters, const OptimizerOptions& options)
    : m_parameters(std::move(parameters)), m_options(options) {
    for (const auto& p : m_parameters) {
        m_first.emplace_back(static_cast<std::size_t>(p.size), 0.f);
        if (options.kind == OptimizerKind::Adam)
            m_second.emplace_back(static_cast<std::size_t>(p.size), 0.f);
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
            long long i = b;
#if defined(__AVX512F__)
            // std::sqrt's errno path keeps the compiler from vectorising this loop; the vector
            // square root is the same correctly rounded IEEE operation (the maskz form: GCC 12
            // warns falsely about the plain one).
            const __m512 vb1 = _mm512_set1_ps(b1), vc1 = _mm512_set1_ps(1.f - b1);
            const __m512 vb2 = _mm512_set1_ps(b2), vc2 = _mm512_set1_ps(1.f - b2);
            const __m512 vstep = _mm512_set1_ps(step), veps = _mm512_set1_ps(eps);
            for (; i + 16 <= e; i += 16) {
                const __m512 g = _mm512_loadu_ps(p.gradient + i);
                const __m512 mi = _mm512_add_ps(_mm512_mul_ps(vb1, _mm512_loadu_ps(m + i)),
                                                _mm512_mul_ps(vc1, g));
                const __m512 vi = _mm512_add_ps(_mm512_mul_ps(vb2, _mm512_loadu_ps(v + i)),
                                                _mm512_mul_ps(vc2, _mm512_mul_ps(g, g)));
                _mm512_storeu_ps(m + i, mi);
                _mm512_storeu_ps(v + i, vi);
                const __m512 update =
                    _mm512_div_ps(_mm512_mul_ps(vstep, mi),
                                  _mm512_add_ps(_mm512_maskz_sqrt_ps(0xFFFF, vi), veps));
                _mm512_storeu_ps(p.value + i, _mm512_sub_ps(_mm512_loadu_ps(p.value + i), update));
            }
#endif
            for (; i < e; ++i) {
                const float g = p.gradient[i];
                m[i] = b1 * m[i] + (1.f - b1) * g;
                v[i] = b2 * v[i] + (1.f - b2) * (g * g);
                p.value[i] -= step * m[i] / (std::sqrt(v[i]) + eps);
            }
        });
    }
}

}  // namespace cwb::train
