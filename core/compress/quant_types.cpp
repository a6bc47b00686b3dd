// The k-bit quantization traits table (see quant_types.h).
#include "core/compress/quant_types.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <vector>

#include "core/compress/fused_kernels.h"

namespace cwb {
namespace {

template <int Bits, bool Sym>
AffineQuantizer scaleRule(float lo, float hi) {
    return Sym ? makeSymmetricQuantizer(std::max(std::fabs(lo), std::fabs(hi)), Bits)
               : makeAsymmetricQuantizer(lo, hi, Bits);
}

// The element kernels by keep rule of a family's table.
std::array<QuantizeRunFn, kKeepKinds> kernels(const fused::FusedKernels& family, bool perUnit) {
    std::array<QuantizeRunFn, kKeepKinds> k{};
    for (int keep = 0; keep < kKeepKinds; ++keep)
        k[keep] = family.values[static_cast<int>(QuantKind::Affine)][perUnit ? 1 : 0][keep];
    return k;
}

// "q4s_g32", "q8a_channel". Built with snprintf: GCC 12 warns falsely (-Wrestrict, bug
// 105329) on chains of std::string operator+ here.
std::string typeName(int bits, bool sym, const char* granularity) {
    char name[32];
    std::snprintf(name, sizeof name, "q%d%c_%s", bits, sym ? 's' : 'a', granularity);
    return name;
}

template <int Bits, bool Sym>
void addRows(std::vector<QuantTypeTraits>& rows) {
    const AffineQuantizer range = scaleRule<Bits, Sym>(-1.f, 1.f);
    auto row = [&](const char* granularityName, Granularity g, int block) {
        QuantTypeTraits t;
        t.name = typeName(Bits, Sym, granularityName);
        t.bits = Bits;
        t.symmetric = Sym;
        t.granularity = g;
        t.blockSize = block;
        t.qmin = range.qmin;
        t.qmax = range.qmax;
        t.quantizer = &scaleRule<Bits, Sym>;
        const bool perUnit = g != Granularity::Tensor;
        t.quantizeRef = kernels(fused::fusedKernels(quant::Isa::Scalar), perUnit);
        for (int isa = 0; isa < quant::kIsaCount; ++isa)
            if (quant::isaSupported(static_cast<quant::Isa>(isa)))
                t.quantize[isa] =
                    kernels(fused::fusedKernels(static_cast<quant::Isa>(isa)), perUnit);
        rows.push_back(std::move(t));
    };
    row("tensor", Granularity::Tensor, 0);
    row("channel", Granularity::Channel, 0);
    row("g32", Granularity::Group, 32);
    row("g64", Granularity::Group, 64);
    row("g128", Granularity::Group, 128);
}

template <int... Bits>
std::vector<QuantTypeTraits> allRows(std::integer_sequence<int, Bits...>) {
    std::vector<QuantTypeTraits> rows;
    ((addRows<Bits + 2, true>(rows), addRows<Bits + 2, false>(rows)), ...);
    return rows;
}

}  // namespace

std::span<const QuantTypeTraits> quantTypes() {
    static const std::vector<QuantTypeTraits> rows = allRows(std::make_integer_sequence<int, 7>());
    return rows;
}

const QuantTypeTraits* findQuantType(const std::string& name) {
    for (const auto& t : quantTypes())
        if (name == t.name) return &t;
    return nullptr;
}

const QuantTypeTraits* quantTypeFor(int bits, QuantScheme scheme, Granularity granularity,
                                    int groupSize) {
    for (const auto& t : quantTypes())
        if (t.bits == bits && t.symmetric == (scheme == QuantScheme::Symmetric) &&
            t.granularity == granularity &&
            (granularity != Granularity::Group || t.blockSize == groupSize))
            return &t;
    return nullptr;
}

}  // namespace cwb
