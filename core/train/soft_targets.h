// Softmax at a temperature, entropy, and the two training losses (cross-entropy on the
// labels, and Hinton's distillation loss on a teacher's softened outputs), each with its
// gradient with respect to the logits. Computed in double for accuracy; callers pass floats.
#pragma once

namespace cwb::train {

// out = softmax(z / T) over n classes; T > 0.
void softmaxAt(const float* logits, int n, double temperature, double* out);
void softmaxAt(const float* logits, int n, double temperature, float* out);

// Shannon entropy in nats of a distribution of n probabilities (0 log 0 = 0).
double entropy(const double* p, int n);

// Cross-entropy -log softmax(z)[label]; writes d/dz = softmax(z) - onehot(label) to grad
// (grad may be null).
double crossEntropyWithLogits(const float* logits, int n, int label, float* grad);

// Hinton et al.'s loss for one sample:
//   L = w T^2 KL(softmax(t/T) || softmax(s/T)) + (1 - w) CE(label, softmax(s))
// with t the teacher's logits and s the student's. The T^2 keeps the soft term's gradient
// magnitude independent of T: dL/ds = w T (softmax(s/T) - softmax(t/T)) + (1 - w)(softmax(s) - y).
// Writes that gradient to grad (may be null) and returns L.
double distillationLoss(const float* studentLogits, const float* teacherLogits, int n, int label,
                        double temperature, double kdWeight, float* grad);

}  // namespace cwb::train
