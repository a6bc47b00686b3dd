// BatchNormalization kernels (see batch_norm.h).
#include "core/infer/cpu/batch_norm.h"

#include <cmath>

#include "core/infer/cpu/activations.h"

namespace cwb::cpu {

void batchNormReference(const float* input, long long count, int channels, const float* gamma,
                        const float* beta, const float* mean, const float* variance, float epsilon,
                        float* output) {
    for (long long i = 0; i < count; ++i) {
        const int c = static_cast<int>(i % channels);
        const double normalised = (input[i] - static_cast<double>(mean[c])) /
                                  std::sqrt(static_cast<double>(variance[c]) + epsilon);
        output[i] =
            static_cast<float>((gamma ? gamma[c] : 1.0) * normalised + (beta ? beta[c] : 0.0));
    }
}

void channelAffine(int channels, const float* scale, const float* shift,
                   const ActivationSpec& activation, const float* input, long long count,
                   float* output) {
    const long long rows = count / channels;
    for (long long r = 0; r < rows; ++r) {
        const float* in = input + r * channels;
        float* out = output + r * channels;
        for (int c = 0; c < channels; ++c) out[c] = in[c] * scale[c] + shift[c];
    }
    applyActivation(activation, output, count);
}

}  // namespace cwb::cpu
