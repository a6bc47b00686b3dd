// k-bit quantization types, ggml style: a type is a row of a traits table (code bits, scheme,
// which weights share a step, the code range, how each step is stored), and the row names the
// code that runs for it: the scale rule (the step and zero point for a range of weights) and
// the element kernels of the fused pass, a plain scalar `_ref` kernel beside the fast one of
// each kernel family this CPU has (AVX2, AVX-512), each giving the same bits (quant_types_test
// holds them to it). Every k-bit setting of QuantSettings (2..8 bits, symmetric or asymmetric,
// per tensor, per output channel, or in groups of 32/64/128) is a row; chooseUnitQuantizers
// picks it and the fused pass runs its kernels.
//
// Groups (blocks) run along the input axis, down a column of the (K, out) kernel matrix,
// while the pass walks rows: a run of one row crosses one block per column, so the kernels
// take each element's own step and zero point (per-channel rows likewise; a tensor row has
// one step).
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>

#include "core/compress/compression_settings.h"
#include "core/compress/quantize.h"
#include "core/compress/weight_view.h"
#include "core/quant/block_formats.h"

namespace cwb {

namespace fused {
struct BlockParams;
}

enum class ScaleEncoding { F32 };

inline constexpr int kKeepKinds = 4;  // KeepRule::Kind: All, Threshold, Textbook, Explicit

// Quantizes n consecutive weights of one row: p.in -> p.out (0 where the keep rule prunes)
// and p.codes (code - zero point), with p.steps / p.zeroPoints per element (p.steps[0] for a
// tensor type) and the row's p.qmin / p.qmax.
using QuantizeRunFn = void (*)(const fused::BlockParams& p, int n);

struct QuantTypeTraits {
    std::string name;  // "q4s_g32": 4 bits, symmetric, groups of 32; "q8a_channel", "q3s_tensor"
    int bits = 0;
    bool symmetric = true;
    Granularity granularity = Granularity::Tensor;
    int blockSize = 0;  // weights per group (Granularity::Group), else 0
    ScaleEncoding scale = ScaleEncoding::F32;
    std::int32_t qmin = 0, qmax = 0;  // codes before the zero point is taken off

    // The scale rule: the quantizer of a unit whose kept weights span [lo, hi].
    AffineQuantizer (*quantizer)(float lo, float hi) = nullptr;
    // Element kernels by KeepRule::Kind: the reference, and by quant::Isa the family of each
    // ISA this CPU has (nullptr for the others; [Scalar] is the reference).
    std::array<QuantizeRunFn, kKeepKinds> quantizeRef{};
    std::array<std::array<QuantizeRunFn, kKeepKinds>, quant::kIsaCount> quantize{};

    QuantizeRunFn kernel(KeepRule::Kind keep, quant::Isa isa) const {
        return quantize[static_cast<int>(isa)][static_cast<int>(keep)];
    }
};

std::span<const QuantTypeTraits> quantTypes();
const QuantTypeTraits* findQuantType(const std::string& name);  // nullptr if unknown
// The row of a k-bit setting (bits 2..8; group sizes 32, 64, 128), or nullptr.
const QuantTypeTraits* quantTypeFor(int bits, QuantScheme scheme, Granularity granularity,
                                    int groupSize);
inline const QuantTypeTraits* quantTypeFor(const QuantSettings& s) {
    return quantTypeFor(s.bits, s.scheme, s.granularity, s.groupSize);
}

}  // namespace cwb
