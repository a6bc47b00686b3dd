// Tempered softmax, entropy and the training losses (see soft_targets.h).
#include "core/train/soft_targets.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace cwb::train {
namespace {

// The classifiers here have a handful of classes; a small stack buffer avoids allocating
// once per sample in the training loop.
constexpr int kStackClasses = 64;

template <typename Out>
void softmaxInto(const float* z, int n, double temperature, Out* out) {
    double maxZ = z[0];
    for (int i = 1; i < n; ++i) maxZ = std::max(maxZ, double(z[i]));
    double sum = 0.0;
    for (int i = 0; i < n; ++i) {
        const double e = std::exp((double(z[i]) - maxZ) / temperature);
        out[i] = static_cast<Out>(e);
        sum += e;
    }
    for (int i = 0; i < n; ++i) out[i] = static_cast<Out>(double(out[i]) / sum);
}

// log softmax(z / T)[i] for all i, in double.
void logSoftmaxInto(const float* z, int n, double temperature, double* out) {
    double maxZ = z[0];
    for (int i = 1; i < n; ++i) maxZ = std::max(maxZ, double(z[i]));
    double sum = 0.0;
    for (int i = 0; i < n; ++i) sum += std::exp((double(z[i]) - maxZ) / temperature);
    const double logSum = std::log(sum);
    for (int i = 0; i < n; ++i) out[i] = (double(z[i]) - maxZ) / temperature - logSum;
}

// Stack storage for small class counts, heap beyond.
struct Scratch {
    explicit Scratch(int n) {
        if (n > kStackClasses) heap.resize(static_cast<std::size_t>(n) * 4);
        base = n > kStackClasses ? heap.data() : stack;
    }
    double* slot(int k, int n) { return base + static_cast<std::size_t>(k) * n; }
    double stack[kStackClasses * 4];
    std::vector<double> heap;
    double* base;
};

}  // namespace

void softmaxAt(const float* logits, int n, double temperature, double* out) {
    softmaxInto(logits, n, temperature, out);
}

void softmaxAt(const float* logits, int n, double temperature, float* out) {
    softmaxInto(logits, n, temperature, out);
}

double entropy(const double* p, int n) {
    double h = 0.0;
    for (int i = 0; i < n; ++i)
        if (p[i] > 0.0) h -= p[i] * std::log(p[i]);
    return h;
}

double crossEntropyWithLogits(const float* logits, int n, int label, float* grad) {
    Scratch s(n);
    double* logP = s.slot(0, n);
    logSoftmaxInto(logits, n, 1.0, logP);
    if (grad) {
        for (int i = 0; i < n; ++i)
            grad[i] = static_cast<float>(std::exp(logP[i]) - (i == label ? 1.0 : 0.0));
    }
    return -logP[label];
}

double distillationLoss(const float* studentLogits, const float* teacherLogits, int n, int label,
                        double temperature, double kdWeight, float* grad) {
    Scratch s(n);
    double* logPs = s.slot(0, n);  // student at T
    double* logPt = s.slot(1, n);  // teacher at T
    double* logP1 = s.slot(2, n);  // student at 1
    logSoftmaxInto(studentLogits, n, temperature, logPs);
    logSoftmaxInto(teacherLogits, n, temperature, logPt);
    logSoftmaxInto(studentLogits, n, 1.0, logP1);
    double kl = 0.0;
    for (int i = 0; i < n; ++i) kl += std::exp(logPt[i]) * (logPt[i] - logPs[i]);
    const double t2 = temperature * temperature;
    const double loss = kdWeight * t2 * kl - (1.0 - kdWeight) * logP1[label];
    if (grad) {
        for (int i = 0; i < n; ++i) {
            const double soft = temperature * (std::exp(logPs[i]) - std::exp(logPt[i]));
            const double hard = std::exp(logP1[i]) - (i == label ? 1.0 : 0.0);
            grad[i] = static_cast<float>(kdWeight * soft + (1.0 - kdWeight) * hard);
        }
    }
    return loss;
}

}  // namespace cwb::train
