// Dense kernels (see dense.h).
#include "core/infer/cpu/dense.h"

#include "core/infer/cpu/activations.h"
#include "core/infer/cpu/gemm.h"

namespace cwb::cpu {

void denseReference(const float* input, long long rows, int inFeatures, int outFeatures,
                    const float* kernel, const float* bias, float* output) {
    for (long long r = 0; r < rows; ++r)
        for (int o = 0; o < outFeatures; ++o) {
            double sum = bias ? bias[o] : 0.0;
            for (int i = 0; i < inFeatures; ++i)
                sum += static_cast<double>(input[r * inFeatures + i]) *
                       kernel[static_cast<long long>(i) * outFeatures + o];
            output[r * outFeatures + o] = static_cast<float>(sum);
        }
}

void dense(int inFeatures, int outFeatures, const float* weights, const float* bias,
           const ActivationSpec& activation, const float* input, long long rows, float* output) {
    sgemm(static_cast<int>(rows), outFeatures, inFeatures, input, inFeatures, weights, outFeatures,
          output, outFeatures);
    biasActivation(activation, bias, output, rows, outFeatures);
}

}  // namespace cwb::cpu
