// int8 Dense and Conv2D (see int8_layer.h).
#include "core/infer/int8/int8_layer.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "core/compress/quantize.h"
#include "core/error.h"

namespace cwb::int8 {
namespace {

// Packs one group of rows of stored codes (k x n) per group.
void packGroups(const std::vector<std::int8_t>& stored, int k, int n, Int8Weights& w) {
    w.groups.clear();
    for (int r0 = 0; r0 < k; r0 += w.groupRows) {
        const int rows = std::min(w.groupRows, k - r0);
        w.groups.push_back(packB(stored.data() + static_cast<std::size_t>(r0) * n, rows, n));
    }
}

// The integer part of one group into `acc` (rows x n floats, accumulated): for each row
// sa * sum over columns of step * (C - za * colSum + offset * (rowSum - za * rows)).
void accumulateGroup(const Int8Weights& w, int g, const std::int32_t* c, long long rows, const float* rowScale,
                     const std::int32_t* rowZero, const std::int32_t* rowSums, bool first, float* acc) {
    const PackedB& b = w.groups[static_cast<std::size_t>(g)];
    const float* step = w.steps.data() + static_cast<std::size_t>(g) * w.n;
    const std::int32_t* offset = w.offsets.data() + static_cast<std::size_t>(g) * w.n;
    for (long long r = 0; r < rows; ++r) {
        const std::int32_t* cr = c + r * w.n;
        float* y = acc + r * w.n;
        const float sa = rowScale[r];
        const std::int32_t za = rowZero[r];
        const std::int64_t centred = w.anyOffset ? static_cast<std::int64_t>(rowSums[r]) - static_cast<std::int64_t>(za) * b.k : 0;
        for (int j = 0; j < w.n; ++j) {
            std::int64_t t = static_cast<std::int64_t>(cr[j]) - static_cast<std::int64_t>(za) * b.columnSums[j];
            if (w.anyOffset) t += static_cast<std::int64_t>(offset[j]) * centred;
            const float v = sa * step[j] * static_cast<float>(t);
            y[j] = first ? v : y[j] + v;
        }
    }
}

// Sums of each row's bytes over one group's columns [c0, c0 + len).
void rowSumsOf(const std::uint8_t* a, long long rows, int lda, int c0, int len, std::int32_t* sums) {
    for (long long r = 0; r < rows; ++r) {
        std::int32_t s = 0;
        for (int j = 0; j < len; ++j) s += a[r * lda + c0 + j];
        sums[r] = s;
    }
}

// C = A * B for every group and the float result into `out`. A's rows carry the whole
// depth k (groups are consecutive column ranges of A).
void multiply(Isa isa, const Int8Weights& w, const std::uint8_t* a, long long rows, int lda, const float* rowScale,
              const std::int32_t* rowZero, float* out, Int8Scratch& s) {
    s.c.resize(static_cast<std::size_t>(rows) * w.n);
    s.rowSums.resize(static_cast<std::size_t>(rows));
    for (int g = 0; g < w.groupCount(); ++g) {
        const int c0 = g * w.groupRows;
        if (w.anyOffset) rowSumsOf(a, rows, lda, c0, w.groups[static_cast<std::size_t>(g)].k, s.rowSums.data());
        gemmU8S8(isa, a + c0, static_cast<int>(rows), lda, w.groups[static_cast<std::size_t>(g)], s.c.data(), w.n);
        accumulateGroup(w, g, s.c.data(), rows, rowScale, rowZero, s.rowSums.data(), g == 0, out);
    }
}

// Row stride of A: every group's start is a multiple of 4 (group sizes are 32, 64, 128 or
// the whole depth) and the last group reads up to its padded depth.
int strideFor(const Int8Weights& w) { return (w.groupCount() - 1) * w.groupRows + w.groups.back().kPadded; }

}  // namespace

bool weightsFromGrid(const float* w, int k, int n, const KernelGrid& grid, Int8Weights& out, std::string& why) {
    if (!grid.quantized) {
        why = "not quantized";
        return false;
    }
    out = Int8Weights{};
    out.k = k;
    out.n = n;
    out.groupRows = grid.granularity == Granularity::Group ? grid.groupSize : k;
    const int groups = (k + out.groupRows - 1) / out.groupRows;
    auto stepOf = [&](int g, int j) -> float {
        switch (grid.granularity) {
            case Granularity::Tensor: return grid.steps[0];
            case Granularity::Channel: return grid.steps[static_cast<std::size_t>(j)];
            case Granularity::Group: return grid.steps[static_cast<std::size_t>(g) * n + j];
        }
        return 0.f;
    };
    const std::size_t expectedSteps = grid.granularity == Granularity::Tensor ? 1
                                      : grid.granularity == Granularity::Channel ? static_cast<std::size_t>(n)
                                                                                 : static_cast<std::size_t>(groups) * n;
    if (grid.steps.size() != expectedSteps) {
        why = "the grid does not match the kernel's shape";
        return false;
    }
    // Codes exactly: the compression computed every weight as code * step.
    std::vector<std::int32_t> codes(static_cast<std::size_t>(k) * n);
    for (int r = 0; r < k; ++r)
        for (int j = 0; j < n; ++j) {
            const float step = stepOf(r / out.groupRows, j), v = w[static_cast<std::size_t>(r) * n + j];
            const float code = step == 0.f ? 0.f : roundHalfAway(v / step);
            if (std::fabs(code) > 1e6f || code * step != v) {
                why = "the weights are not on the compression grid";
                return false;
            }
            codes[static_cast<std::size_t>(r) * n + j] = static_cast<std::int32_t>(code);
        }
    // Per (group, column): an offset so that the stored codes fit int8.
    out.steps.resize(static_cast<std::size_t>(groups) * n);
    out.offsets.assign(static_cast<std::size_t>(groups) * n, 0);
    std::vector<std::int8_t> stored(codes.size());
    std::int32_t lo = 0, hi = 0;
    for (int g = 0; g < groups; ++g)
        for (int j = 0; j < n; ++j) {
            const int r0 = g * out.groupRows, r1 = std::min(k, r0 + out.groupRows);
            std::int32_t mn = std::numeric_limits<std::int32_t>::max(), mx = std::numeric_limits<std::int32_t>::min();
            for (int r = r0; r < r1; ++r) {
                mn = std::min(mn, codes[static_cast<std::size_t>(r) * n + j]);
                mx = std::max(mx, codes[static_cast<std::size_t>(r) * n + j]);
            }
            lo = std::min(lo, mn);
            hi = std::max(hi, mx);
            if (static_cast<std::int64_t>(mx) - mn > 255) {
                why = "codes span " + std::to_string(static_cast<std::int64_t>(mx) - mn + 1) + " values in one unit (more than 8 bits)";
                return false;
            }
            const std::int32_t offset = (mn >= -128 && mx <= 127) ? 0 : mn + 128;
            out.offsets[static_cast<std::size_t>(g) * n + j] = offset;
            out.anyOffset = out.anyOffset || offset != 0;
            out.steps[static_cast<std::size_t>(g) * n + j] = stepOf(g, j);
            for (int r = r0; r < r1; ++r)
                stored[static_cast<std::size_t>(r) * n + j] =
                    static_cast<std::int8_t>(codes[static_cast<std::size_t>(r) * n + j] - offset);
        }
    out.codeBits = effectiveBits(static_cast<long long>(hi) - lo + 1);
    packGroups(stored, k, n, out);
    return true;
}

Int8Weights requantizePerChannel(const float* w, int k, int n) {
    Int8Weights out;
    out.k = k;
    out.n = n;
    out.groupRows = k;
    out.requantized = true;
    out.steps.resize(static_cast<std::size_t>(n));
    out.offsets.assign(static_cast<std::size_t>(n), 0);
    std::vector<std::int8_t> stored(static_cast<std::size_t>(k) * n);
    for (int j = 0; j < n; ++j) {
        float maxAbs = 0.f;
        for (int r = 0; r < k; ++r) maxAbs = std::max(maxAbs, std::fabs(w[static_cast<std::size_t>(r) * n + j]));
        const AffineQuantizer q = makeSymmetricQuantizer(maxAbs, 8);
        out.steps[static_cast<std::size_t>(j)] = q.step;
        for (int r = 0; r < k; ++r)
            stored[static_cast<std::size_t>(r) * n + j] = static_cast<std::int8_t>(q.code(w[static_cast<std::size_t>(r) * n + j]));
    }
    out.codeBits = 8;
    packGroups(stored, k, n, out);
    return out;
}

void quantizeRows(const float* x, long long rows, int k, std::uint8_t* q, int lda, float* scales, std::int32_t* zeros) {
    for (long long r = 0; r < rows; ++r) {
        const float* row = x + r * k;
        float lo = 0.f, hi = 0.f;
        for (int j = 0; j < k; ++j) {
            lo = row[j] < lo ? row[j] : lo;
            hi = row[j] > hi ? row[j] : hi;
        }
        const AffineQuantizer aq = makeAsymmetricQuantizer(lo, hi, 8);
        const float step = aq.step > 0.f ? aq.step : 1.f;
        const float zp = static_cast<float>(aq.zeroPoint);
        std::uint8_t* out = q + r * lda;
        for (int j = 0; j < k; ++j) {
            float v = roundHalfAway(row[j] / step) + zp;
            v = v > 0.f ? v : 0.f;
            v = v < 255.f ? v : 255.f;
            out[j] = static_cast<std::uint8_t>(v);
        }
        for (int j = k; j < lda; ++j) out[j] = 0;
        scales[r] = step;
        zeros[r] = aq.zeroPoint;
    }
}

void denseInt8(Isa isa, const Int8Weights& w, const Epilogue& epilogue, const float* in, long long rows, float* out,
               Int8Scratch& s) {
    const int lda = strideFor(w);
    s.a.resize(static_cast<std::size_t>(rows) * lda);
    s.rowScale.resize(static_cast<std::size_t>(rows));
    s.rowZero.resize(static_cast<std::size_t>(rows));
    quantizeRows(in, rows, w.k, s.a.data(), lda, s.rowScale.data(), s.rowZero.data());
    multiply(isa, w, s.a.data(), rows, lda, s.rowScale.data(), s.rowZero.data(), out, s);
    applyEpilogue(epilogue, out, rows, w.n);
}

void conv2dInt8(Isa isa, const Window2D& win, const Int8Weights& w, const Epilogue& epilogue, const float* in,
                int batch, float* out, Int8Scratch& s) {
    const std::size_t channels = static_cast<std::size_t>(std::max(win.channels, 0));
    const long long pixels = win.outputPixels();
    const int lda = strideFor(w);
    std::vector<std::uint8_t>& image = s.image;
    image.resize(static_cast<std::size_t>(win.inputSize()));
    s.a.resize(static_cast<std::size_t>(pixels) * lda);
    s.rowScale.resize(static_cast<std::size_t>(pixels));
    s.rowZero.resize(static_cast<std::size_t>(pixels));
    for (int b = 0; b < batch; ++b) {
        // One scale per image; the padding of the patches is its zero point, exactly 0.0.
        float scale = 1.f;
        std::int32_t zero = 0;
        quantizeRows(in + b * win.inputSize(), 1, static_cast<int>(win.inputSize()), image.data(),
                     static_cast<int>(win.inputSize()), &scale, &zero);
        std::fill(s.rowScale.begin(), s.rowScale.end(), scale);
        std::fill(s.rowZero.begin(), s.rowZero.end(), zero);
        for (int oy = 0; oy < win.outH; ++oy)
            for (int ox = 0; ox < win.outW; ++ox) {
                std::uint8_t* row = s.a.data() + (static_cast<long long>(oy) * win.outW + ox) * lda;
                std::uint8_t* dst = row;
                for (int ky = 0; ky < win.kernelH; ++ky) {
                    const int iy = oy * win.strideH - win.padTop + ky;
                    for (int kx = 0; kx < win.kernelW; ++kx, dst += channels) {
                        const int ix = ox * win.strideW - win.padLeft + kx;
                        if (iy < 0 || iy >= win.inH || ix < 0 || ix >= win.inW)
                            std::memset(dst, zero, channels);
                        else
                            std::memcpy(dst, image.data() + (static_cast<std::size_t>(iy) * win.inW + ix) * channels, channels);
                    }
                }
                std::fill(dst, row + lda, static_cast<std::uint8_t>(0));
            }
        float* y = out + b * pixels * w.n;
        multiply(isa, w, s.a.data(), pixels, lda, s.rowScale.data(), s.rowZero.data(), y, s);
        applyEpilogue(epilogue, y, pixels, w.n);
    }
}

}  // namespace cwb::int8
