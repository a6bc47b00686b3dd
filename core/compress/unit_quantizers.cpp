// Per-unit range selection and clipping (see unit_quantizers.h).
#include "core/compress/unit_quantizers.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/compress/quant_types.h"
#include "core/error.h"
#include "core/util/parallel.h"

namespace cwb {
namespace {

// Nearest-rank percentile of sorted-able values: the value at ceil(p/100 * n) - 1.
float percentile(std::vector<float>& v, double p) {
    const auto n = static_cast<long long>(v.size());
    const long long k = std::clamp(
        static_cast<long long>(std::ceil(p / 100.0 * static_cast<double>(n))) - 1, 0LL, n - 1);
    std::nth_element(v.begin(), v.begin() + k, v.end());
    return v[static_cast<std::size_t>(k)];
}

double squaredError(const std::vector<float>& v, const AffineQuantizer& q) {
    double sum = 0.0;
    for (float w : v) {
        const double e = static_cast<double>(q.apply(w)) - w;
        sum += e * e;
    }
    return sum;
}

// `kept` holds the unit's kept weights when clipping needs them (it is empty for ClipMethod::None).
AffineQuantizer chooseOne(std::vector<float>& kept, float lo, float hi, const QuantSettings& s,
                          const QuantTypeTraits& type) {
    switch (s.clip) {
        case ClipMethod::None:
            return type.quantizer(lo, hi);
        case ClipMethod::Percentile: {
            if (s.scheme == QuantScheme::Symmetric) {
                for (float& w : kept) w = std::fabs(w);
                const float m = percentile(kept, s.clipPercentile);
                return type.quantizer(-m, m);
            }
            const float top = percentile(kept, s.clipPercentile);
            const float bottom = percentile(kept, 100.0 - s.clipPercentile);
            return type.quantizer(bottom, top);
        }
        case ClipMethod::Mse: {
            AffineQuantizer best = type.quantizer(lo, hi);
            double bestError = squaredError(kept, best);
            for (float ratio : mseClipRatios()) {
                const AffineQuantizer q = type.quantizer(lo * ratio, hi * ratio);
                const double e = squaredError(kept, q);
                if (e < bestError) {
                    bestError = e;
                    best = q;
                }
            }
            return best;
        }
    }
    return type.quantizer(lo, hi);
}

// One row's values where kept, +inf / -inf where pruned (a loop per rule so that it vectorizes).
template <KeepRule::Kind K>
void keptRow(const float* row, const std::uint8_t* mask, long long cols, float rho, float* rowMin,
             float* rowMax) {
    constexpr float inf = std::numeric_limits<float>::infinity();
    for (long long c = 0; c < cols; ++c) {
        bool k = true;
        if constexpr (K == KeepRule::Kind::Threshold) k = keptByThreshold(row[c], rho);
        if constexpr (K == KeepRule::Kind::Textbook) k = keptByTextbookThreshold(row[c], rho);
        if constexpr (K == KeepRule::Kind::Explicit) k = mask[c] != 0;
        rowMin[c] = k ? row[c] : inf;
        rowMax[c] = k ? row[c] : -inf;
    }
}

void keptRow(const KeepRule& keep, const float* row, long long offset, long long cols,
             float* rowMin, float* rowMax) {
    const std::uint8_t* mask = keep.keep ? keep.keep + offset : nullptr;
    switch (keep.kind) {
        case KeepRule::Kind::All:
            return keptRow<KeepRule::Kind::All>(row, mask, cols, keep.rho, rowMin, rowMax);
        case KeepRule::Kind::Threshold:
            return keptRow<KeepRule::Kind::Threshold>(row, mask, cols, keep.rho, rowMin, rowMax);
        case KeepRule::Kind::Textbook:
            return keptRow<KeepRule::Kind::Textbook>(row, mask, cols, keep.rho, rowMin, rowMax);
        case KeepRule::Kind::Explicit:
            return keptRow<KeepRule::Kind::Explicit>(row, mask, cols, keep.rho, rowMin, rowMax);
    }
}

// Min and max of the kept weights of every unit, in row order (rows of one unit are
// contiguous in memory along the columns, so the inner loop vectorizes). Threads take row
// ranges and their results merge by min/max, which does not depend on the split.
void unitRanges(const MatrixView& w, const KeepRule& keep, UnitQuantizers& out, int threads) {
    const long long cols = w.cols;
    const long long rowsPerUnitRow = out.granularity == Granularity::Group ? out.groupSize : w.rows;
    const long long unitRows = out.granularity == Granularity::Channel
                                   ? 1
                                   : (w.rows + rowsPerUnitRow - 1) / rowsPerUnitRow;
    const long long width = out.granularity == Granularity::Tensor ? 1 : cols;
    threads = static_cast<int>(
        std::max<long long>(1, std::min<long long>(resolveThreads(threads), w.rows / 64 + 1)));
    constexpr float inf = std::numeric_limits<float>::infinity();
    std::vector<std::vector<float>> mins(threads), maxs(threads);
    parallelFor(w.rows, threads, [&](long long begin, long long end, int worker) {
        auto& mn = mins[worker];
        auto& mx = maxs[worker];
        mn.assign(static_cast<std::size_t>(unitRows * width), inf);
        mx.assign(static_cast<std::size_t>(unitRows * width), -inf);
        std::vector<float> rowMin(static_cast<std::size_t>(cols)),
            rowMax(static_cast<std::size_t>(cols));
        for (long long r = begin; r < end; ++r) {
            keptRow(keep, w.data + r * cols, r * cols, cols, rowMin.data(), rowMax.data());
            const long long base =
                out.granularity == Granularity::Channel ? 0 : (r / rowsPerUnitRow) * width;
            if (width == 1) {
                float lo = mn[base], hi = mx[base];
                for (long long c = 0; c < cols; ++c) {
                    lo = rowMin[c] < lo ? rowMin[c] : lo;
                    hi = rowMax[c] > hi ? rowMax[c] : hi;
                }
                mn[base] = lo;
                mx[base] = hi;
            } else {
                float* a = mn.data() + base;
                float* b = mx.data() + base;
                for (long long c = 0; c < cols; ++c) {
                    a[c] = rowMin[c] < a[c] ? rowMin[c] : a[c];
                    b[c] = rowMax[c] > b[c] ? rowMax[c] : b[c];
                }
            }
        }
    });
    for (int t = 0; t < threads; ++t) {
        if (mins[t].empty()) continue;
        for (std::size_t u = 0; u < out.rawMin.size(); ++u) {
            out.rawMin[u] = std::min(out.rawMin[u], mins[t][u]);
            out.rawMax[u] = std::max(out.rawMax[u], maxs[t][u]);
        }
    }
}

}  // namespace

std::vector<float> mseClipRatios() {
    std::vector<float> r;
    for (int i = 0; i <= 25; ++i) r.push_back(1.f - 0.02f * static_cast<float>(i));
    return r;
}

float UnitQuantizers::errorBound() const {
    float bound = 0.f;
    for (std::size_t u = 0; u < units.size(); ++u) {
        const auto& q = units[u];
        bound = std::max(bound, 0.5f * q.step);
        if (rawMax[u] >= rawMin[u]) {
            bound = std::max(bound, rawMax[u] - q.value(q.qmax));
            bound = std::max(bound, q.value(q.qmin) - rawMin[u]);
        }
    }
    return bound;
}

float UnitQuantizers::valueBound() const {
    float bound = 0.f;
    for (const auto& q : units)
        bound = std::max({bound, std::fabs(q.value(q.qmin)), std::fabs(q.value(q.qmax))});
    return bound;
}

UnitQuantizers chooseUnitQuantizers(const MatrixView& w, const KeepRule& keep,
                                    const QuantSettings& s, int threads) {
    UnitQuantizers out;
    out.granularity =
        w.rows <= 1 && s.granularity != Granularity::Tensor ? Granularity::Tensor : s.granularity;
    out.type = quantTypeFor(s.bits, s.scheme, out.granularity, s.groupSize);
    if (!out.type)
        throw Error("no " + std::to_string(s.bits) + "-bit " +
                    granularityName(s.granularity, s.groupSize) +
                    " quantization; use 2..8 bits and groups of 32, 64 or 128");
    const QuantTypeTraits& type = *out.type;
    out.groupSize = out.granularity == Granularity::Group ? s.groupSize : 0;
    out.cols = w.cols;
    long long count = 1;
    if (out.granularity == Granularity::Channel) count = w.cols;
    if (out.granularity == Granularity::Group)
        count = (w.rows + s.groupSize - 1) / s.groupSize * w.cols;
    out.units.resize(static_cast<std::size_t>(count));
    out.rawMin.assign(static_cast<std::size_t>(count), std::numeric_limits<float>::infinity());
    out.rawMax.assign(static_cast<std::size_t>(count), -std::numeric_limits<float>::infinity());

    if (s.clip == ClipMethod::None) {
        unitRanges(w, keep, out, threads);
        for (long long u = 0; u < count; ++u)
            out.units[u] = out.rawMin[u] > out.rawMax[u]
                               ? type.quantizer(0.f, 0.f)
                               : type.quantizer(out.rawMin[u], out.rawMax[u]);
    } else {
        // Clipping looks at each unit's values: gather them. Units are independent, so
        // splitting them over threads gives the same result.
        parallelFor(count, threads, [&](long long begin, long long end, int) {
            std::vector<float> kept;
            for (long long u = begin; u < end; ++u) {
                long long r0 = 0, r1 = w.rows, c0 = 0, c1 = w.cols;
                if (out.granularity == Granularity::Channel) {
                    c0 = u;
                    c1 = u + 1;
                } else if (out.granularity == Granularity::Group) {
                    r0 = (u / w.cols) * s.groupSize;
                    r1 = std::min(w.rows, r0 + s.groupSize);
                    c0 = u % w.cols;
                    c1 = c0 + 1;
                }
                kept.clear();
                float lo = std::numeric_limits<float>::infinity(), hi = -lo;
                for (long long r = r0; r < r1; ++r)
                    for (long long c = c0; c < c1; ++c) {
                        const long long i = r * w.cols + c;
                        const float v = w.data[i];
                        if (!keep(v, i)) continue;
                        lo = std::min(lo, v);
                        hi = std::max(hi, v);
                        kept.push_back(v);
                    }
                out.rawMin[u] = lo;
                out.rawMax[u] = hi;
                out.units[u] =
                    lo > hi ? type.quantizer(0.f, 0.f) : chooseOne(kept, lo, hi, s, type);
            }
        });
    }
    for (const auto& q : out.units) {
        out.steps.push_back(q.step);
        out.zeroPoints.push_back(static_cast<float>(q.zeroPoint));
    }
    return out;
}

}  // namespace cwb
