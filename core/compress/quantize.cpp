// Construction of k-bit quantizers (see quantize.h).
#include "core/compress/quantize.h"

#include <algorithm>

namespace cwb {

AffineQuantizer makeSymmetricQuantizer(float maxAbs, int bits) {
    AffineQuantizer q;
    const std::int32_t top = (1 << (bits - 1)) - 1;
    q.qmin = -top;
    q.qmax = top;
    q.step = maxAbs > 0.f ? maxAbs / static_cast<float>(top) : 0.f;
    return q;
}

AffineQuantizer makeAsymmetricQuantizer(float lo, float hi, int bits) {
    AffineQuantizer q;
    lo = std::min(lo, 0.f);
    hi = std::max(hi, 0.f);
    q.qmin = 0;
    q.qmax = (1 << bits) - 1;
    q.step = hi > lo ? (hi - lo) / static_cast<float>(q.qmax) : 0.f;
    q.zeroPoint = q.step > 0.f ? std::clamp(static_cast<std::int32_t>(std::round(-lo / q.step)),
                                            q.qmin, q.qmax)
                               : 0;
    return q;
}

int effectiveBits(long long levels) {
    int bits = 0;
    while (levels > (1LL << bits)) ++bits;
    return bits;
}

}  // namespace cwb
