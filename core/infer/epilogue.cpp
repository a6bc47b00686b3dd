// Layer epilogues (see epilogue.h), on the float32 engine's kernels.
#include "core/infer/epilogue.h"

#include "core/infer/cpu/activations.h"
#include "core/infer/cpu/batch_norm.h"

namespace cwb {

void applyEpilogue(const Epilogue& e, float* y, long long rows, int n) {
    if (!e.scale) {
        cpu::biasActivation(e.activation, e.bias, y, rows, n);
        return;
    }
    if (e.bias)
        for (long long r = 0; r < rows; ++r) {
            float* row = y + r * n;
            for (int j = 0; j < n; ++j) row[j] += e.bias[j];
        }
    cpu::channelAffine(n, e.scale, e.shift, e.activation, y, rows * n, y);
}

}  // namespace cwb
