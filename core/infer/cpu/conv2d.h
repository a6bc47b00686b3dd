// 2-D convolution on the CPU, channels_last, Keras semantics (kernel (kh, kw, cin, cout),
// TF 'same' padding): a naive reference and a fast kernel with two algorithms. The patch
// algorithm unrolls image patches (im2col) a block of output rows at a time, so the patch
// buffer stays in L2, and multiplies each block by the kernel with SGEMM, adding bias and
// activation while the block is still in cache; the direct one is in conv2d_direct.h.
#pragma once

#include <cstddef>

#include "core/infer/plan.h"

namespace cwb::cpu {

// Naive reference: seven nested loops with explicit padding, no activation. bias may be null.
// Output (batch, outH, outW, filters) with Keras's output sizes.
void conv2dReference(const float* input, int batch, int inH, int inW, int inC,
                     const Conv2DConfig& config, const float* kernel, const float* bias,
                     float* output);

// How the fast kernel computes: direct AVX-512 tiles where the CPU has them (measured
// faster), else patches + SGEMM. Im2colGemm with blockRows > 0 unrolls that many output
// pixels per SGEMM (the whole-batch strategy passes the whole batch).
enum class ConvAlgorithm { Auto, Im2colGemm, Direct };

struct ConvSettings {
    ConvAlgorithm algorithm = ConvAlgorithm::Auto;
    long long blockRows = 0;  // Im2colGemm only; 0 picks a block that fits in L2
};

// False for Direct on a CPU without AVX-512.
bool convAlgorithmAvailable(ConvAlgorithm algorithm);

// Floats of scratch conv2d needs for this geometry and these settings.
std::size_t conv2dScratchFloats(const Window2D& window, const ConvSettings& settings = {});

// Fast kernel: output = activation(conv(input) + bias). weights are (kh*kw*cin, filters)
// row-major, i.e. the Keras kernel as is; bias may be null. scratch holds
// conv2dScratchFloats(window, settings) floats. The direct algorithm packs the weights on
// every call here; engines pack them once (conv2d_direct.h).
void conv2d(const Window2D& window, int filters, const float* weights, const float* bias,
            const ActivationSpec& activation, const float* input, int batch, float* output,
            float* scratch, const ConvSettings& settings = {});

}  // namespace cwb::cpu
