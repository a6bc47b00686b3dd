// The block quantization traits table (see quant_types.h).
#include "core/compress/quant_types.h"

#include <algorithm>
#include <array>
#include <cmath>

#include "core/compress/fused_kernels.h"
#include "core/compress/quantize.h"

namespace cwb {
namespace {

// The block's quantizer, exactly as chooseUnitQuantizers builds it for an unclipped unit.
template <int Bits, bool Sym>
AffineQuantizer blockQuantizer(float lo, float hi) {
    return Sym ? makeSymmetricQuantizer(std::max(std::fabs(lo), std::fabs(hi)), Bits)
               : makeAsymmetricQuantizer(lo, hi, Bits);
}

template <int Bits, bool Sym>
float quantizeBlockRef(const float* in, float* out, std::int32_t* codes, int n) {
    float lo = in[0], hi = in[0];
    for (int i = 1; i < n; ++i) {
        lo = std::min(lo, in[i]);
        hi = std::max(hi, in[i]);
    }
    const AffineQuantizer q = blockQuantizer<Bits, Sym>(lo, hi);
    for (int i = 0; i < n; ++i) {
        const std::int32_t c = q.code(in[i]);
        codes[i] = q.step == 0.f ? 0 : c - q.zeroPoint;
        out[i] = q.value(c);
    }
    return q.step;
}

// The same through the fused pass's vector kernel (one unit for the whole block).
template <int Bits, bool Sym>
float quantizeBlockFast(const float* in, float* out, std::int32_t* codes, int n) {
    float lo = in[0], hi = in[0];
    for (int i = 1; i < n; ++i) {
        lo = in[i] < lo ? in[i] : lo;
        hi = in[i] > hi ? in[i] : hi;
    }
    const AffineQuantizer q = blockQuantizer<Bits, Sym>(lo, hi);
    const float step = q.step, zp = static_cast<float>(q.zeroPoint);
    float codesF[128];
    fused::BlockParams p{};
    p.in = in;
    p.out = out;
    p.codes = codesF;
    p.steps = &step;
    p.zeroPoints = &zp;
    p.qmin = static_cast<float>(q.qmin);
    p.qmax = static_cast<float>(q.qmax);
    for (int i0 = 0; i0 < n; i0 += 128) {
        const int len = std::min(128, n - i0);
        fused::BlockParams part = p;
        part.in = in + i0;
        part.out = out + i0;
        fused::values<QuantKind::Affine, false, KeepRule::Kind::All>(part, len);
        for (int i = 0; i < len; ++i) codes[i0 + i] = static_cast<std::int32_t>(codesF[i]);
    }
    return step;
}

template <int Bits, bool Sym, int Block>
constexpr QuantTypeTraits row(const char* name) {
    return {name,
            Block,
            Bits,
            Sym,
            ScaleEncoding::F32,
            &quantizeBlockRef<Bits, Sym>,
            &quantizeBlockFast<Bits, Sym>};
}

#define CWB_QUANT_ROWS(B)                                                      \
    row<B, true, 32>("q" #B "s_g32"), row<B, true, 64>("q" #B "s_g64"),        \
        row<B, true, 128>("q" #B "s_g128"), row<B, false, 32>("q" #B "a_g32"), \
        row<B, false, 64>("q" #B "a_g64"), row<B, false, 128>("q" #B "a_g128")

constexpr std::array<QuantTypeTraits, 42> kTypes{
    {CWB_QUANT_ROWS(2), CWB_QUANT_ROWS(3), CWB_QUANT_ROWS(4), CWB_QUANT_ROWS(5), CWB_QUANT_ROWS(6),
     CWB_QUANT_ROWS(7), CWB_QUANT_ROWS(8)}};
#undef CWB_QUANT_ROWS

}  // namespace

long long QuantTypeTraits::encodedBytes(long long weights) const {
    const long long blocks = (weights + blockSize - 1) / blockSize;
    const long long zeroPoints = symmetric ? 0 : (blocks * bits + 7) / 8;
    return (weights * bits + 7) / 8 + blocks * 4 + zeroPoints;
}

std::span<const QuantTypeTraits> quantTypes() { return kTypes; }

const QuantTypeTraits* findQuantType(const std::string& name) {
    for (const auto& t : kTypes)
        if (name == t.name) return &t;
    return nullptr;
}

const QuantTypeTraits* quantTypeFor(const QuantSettings& s) {
    if (s.granularity != Granularity::Group) return nullptr;
    for (const auto& t : kTypes)
        if (t.bits == s.bits && t.blockSize == s.groupSize &&
            t.symmetric == (s.scheme == QuantScheme::Symmetric))
            return &t;
    return nullptr;
}

}  // namespace cwb
