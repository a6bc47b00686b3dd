// What the distillation panel's temperature slider shows: a teacher's softened output
// distributions softmax(z / T) for a batch of images, their entropy and top-k classes.
// The teacher runs once (logits cached); every preview after that is O(images x classes),
// microseconds for the batch sizes a panel shows.
#pragma once

#include <vector>

#include "core/infer/engine.h"

namespace cwb::train {

struct ClassProbability {
    int classIndex = 0;
    float probability = 0.f;
};

struct TemperaturePreview {
    double temperature = 1.0;
    int samples = 0, classes = 0;
    std::vector<float> probabilities;  // samples x classes, softmax(z / T) per row
    std::vector<double> entropy;       // per sample, in nats
    double meanEntropy = 0.0;          // nats
    double maxEntropy = 0.0;           // ln(classes): the uniform distribution's
    double meanTopProbability = 0.0;   // mean over samples of the largest probability
    std::vector<std::vector<ClassProbability>> topK;  // per sample, largest first
};

class TemperaturePreviewer {
public:
    // logits: samples x classes, taken before the teacher's softmax. Throws cwb::Error when
    // the sizes do not fit.
    TemperaturePreviewer(std::vector<float> logits, int classes);

    // Runs the teacher (an engine made with EngineOptions::logits) over `samples` images once.
    static TemperaturePreviewer fromTeacher(InferenceEngine& teacherLogits, const float* images,
                                            int samples);

    // The softened distributions at temperature T > 0 and the k most likely classes of each
    // image (k is clipped to the class count). Throws cwb::Error for T <= 0 or k < 1.
    TemperaturePreview at(double temperature, int k = 3) const;

    // Mean entropy (nats) at each temperature: the curve the slider moves along.
    std::vector<double> meanEntropyCurve(const std::vector<double>& temperatures) const;

    int samples() const { return m_samples; }
    int classes() const { return m_classes; }
    const std::vector<float>& logits() const { return m_logits; }

private:
    std::vector<float> m_logits;
    int m_samples = 0, m_classes = 0;
};

}  // namespace cwb::train
