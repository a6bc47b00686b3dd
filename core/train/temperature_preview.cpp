// Softened teacher distributions for the temperature slider (see temperature_preview.h).
#include "core/train/temperature_preview.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "core/error.h"
#include "core/train/soft_targets.h"

namespace cwb::train {

TemperaturePreviewer::TemperaturePreviewer(std::vector<float> logits, int classes)
    : m_logits(std::move(logits)), m_classes(classes) {
    if (classes < 1 || m_logits.size() % static_cast<std::size_t>(classes) != 0)
        throw Error("temperature preview: " + std::to_string(m_logits.size()) +
                    " logits do not divide into " + std::to_string(classes) + " classes");
    m_samples = static_cast<int>(m_logits.size() / static_cast<std::size_t>(classes));
}

TemperaturePreviewer TemperaturePreviewer::fromTeacher(InferenceEngine& teacherLogits,
                                                       const float* images, int samples) {
    std::vector<float> logits(static_cast<std::size_t>(samples) * teacherLogits.outputSize());
    if (samples > 0) teacherLogits.forward(images, samples, logits.data());
    return TemperaturePreviewer(std::move(logits), teacherLogits.outputSize());
}

TemperaturePreview TemperaturePreviewer::at(double temperature, int k) const {
    if (!(temperature > 0.0 && std::isfinite(temperature)))
        throw Error("temperature must be a positive number, got " + std::to_string(temperature));
    if (k < 1) throw Error("top-k needs k >= 1, got " + std::to_string(k));
    k = std::min(k, m_classes);
    TemperaturePreview p;
    p.temperature = temperature;
    p.samples = m_samples;
    p.classes = m_classes;
    p.maxEntropy = std::log(double(m_classes));
    p.probabilities.resize(m_logits.size());
    p.entropy.resize(static_cast<std::size_t>(m_samples));
    p.topK.resize(static_cast<std::size_t>(m_samples));
    std::vector<double> row(static_cast<std::size_t>(m_classes));
    std::vector<int> order(static_cast<std::size_t>(m_classes));
    for (int s = 0; s < m_samples; ++s) {
        const std::size_t base = static_cast<std::size_t>(s) * m_classes;
        softmaxAt(m_logits.data() + base, m_classes, temperature, row.data());
        for (int c = 0; c < m_classes; ++c) p.probabilities[base + c] = static_cast<float>(row[c]);
        p.entropy[s] = entropy(row.data(), m_classes);
        p.meanEntropy += p.entropy[s];
        std::iota(order.begin(), order.end(), 0);
        std::partial_sort(order.begin(), order.begin() + k, order.end(), [&](int a, int b) {
            return row[a] > row[b] || (row[a] == row[b] && a < b);
        });
        for (int i = 0; i < k; ++i)
            p.topK[s].push_back({order[i], static_cast<float>(row[order[i]])});
        p.meanTopProbability += row[order[0]];
    }
    if (m_samples > 0) {
        p.meanEntropy /= m_samples;
        p.meanTopProbability /= m_samples;
    }
    return p;
}

std::vector<double> TemperaturePreviewer::meanEntropyCurve(
    const std::vector<double>& temperatures) const {
    std::vector<double> curve;
    curve.reserve(temperatures.size());
    for (double t : temperatures) curve.push_back(at(t, 1).meanEntropy);
    return curve;
}

}  // namespace cwb::train
