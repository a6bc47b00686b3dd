// int8 Dense and Conv2D (see int8_layer.h).
#include "core/infer/int8/int8_layer.h"

#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "core/compress/quantize.h"
#include "core/error.h"
#include "core/infer/cpu/activations.h"
#include "core/infer/int8/byte_pairs_avx2.h"
#include "core/infer/int8/implicit_conv.h"

#define CWB_AVX512BW __attribute__((target("avx512f,avx512bw,avx512vl")))

// GCC 12 warns inside its own AVX-512 headers when they are inlined (GCC bug 105593).
#if !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#endif

namespace cwb::int8 {
namespace {

bool haveAvx512() {
    static const bool yes = __builtin_cpu_supports("avx512f") &&
                            __builtin_cpu_supports("avx512bw") &&
                            __builtin_cpu_supports("avx512vl");
    return yes;
}

// Row range and uint8 codes, 16 values at a time (see quantizeRows for the rule).
CWB_AVX512BW void rangeAvx512(const float* x, int k, float& lo, float& hi) {
    // Four independent minima and maxima first: one chain would wait on each max's latency.
    __m512 mins[4], maxs[4];
    for (int i = 0; i < 4; ++i) mins[i] = maxs[i] = _mm512_setzero_ps();
    int j = 0;
    for (; j + 64 <= k; j += 64)
        for (int i = 0; i < 4; ++i) {
            const __m512 v = _mm512_loadu_ps(x + j + 16 * i);
            mins[i] = _mm512_min_ps(mins[i], v);
            maxs[i] = _mm512_max_ps(maxs[i], v);
        }
    __m512 mn = _mm512_min_ps(_mm512_min_ps(mins[0], mins[1]), _mm512_min_ps(mins[2], mins[3]));
    __m512 mx = _mm512_max_ps(_mm512_max_ps(maxs[0], maxs[1]), _mm512_max_ps(maxs[2], maxs[3]));
    for (; j < k; j += 16) {
        const __mmask16 m = k - j >= 16 ? __mmask16(0xffff) : __mmask16((1u << (k - j)) - 1u);
        const __m512 v =
            _mm512_maskz_loadu_ps(m, x + j);  // masked lanes read 0, inside [lo, hi] anyway
        mn = _mm512_min_ps(mn, v);
        mx = _mm512_max_ps(mx, v);
    }
    lo = _mm512_reduce_min_ps(mn);
    hi = _mm512_reduce_max_ps(mx);
}

CWB_AVX512BW void codesAvx512(const float* x, int k, float inverse, std::int32_t zero,
                              std::uint8_t* out) {
    const __m512 inv = _mm512_set1_ps(inverse);
    const __m512i zp = _mm512_set1_epi32(zero), lo = _mm512_setzero_si512(),
                  hi = _mm512_set1_epi32(255);
    for (int j = 0; j < k; j += 16) {
        const __mmask16 m = k - j >= 16 ? __mmask16(0xffff) : __mmask16((1u << (k - j)) - 1u);
        __m512i q = _mm512_add_epi32(
            _mm512_cvtps_epi32(_mm512_mul_ps(_mm512_maskz_loadu_ps(m, x + j), inv)), zp);
        q = _mm512_min_epi32(_mm512_max_epi32(q, lo), hi);
        _mm_mask_storeu_epi8(out + j, m, _mm512_cvtepi32_epi8(q));
    }
}

// Packs one group of rows of stored codes (k x n) per group.
void packGroups(const std::vector<std::int8_t>& stored, int k, int n, Int8Weights& w) {
    w.groups.clear();
    for (int r0 = 0; r0 < k; r0 += w.groupRows) {
        const int rows = std::min(w.groupRows, k - r0);
        w.groups.push_back(packB(stored.data() + static_cast<std::size_t>(r0) * n, rows, n));
    }
}

// Sums of each row's bytes over one group's columns [c0, c0 + len).
void rowSumsOf(const std::uint8_t* a, long long rows, int lda, int c0, int len,
               std::int32_t* sums) {
    for (long long r = 0; r < rows; ++r) {
        std::int32_t s = 0;
        for (int j = 0; j < len; ++j) s += a[r * lda + c0 + j];
        sums[r] = s;
    }
}

// out = epilogue(A * B) over every group: the integer products become floats in the
// product's registers (gemmU8S8Requant); A's rows carry the whole depth k, groups being
// consecutive column ranges of A.
void multiply(Isa isa, const Int8Weights& w, const std::uint8_t* a, long long rows, int lda,
              const float* rowScale, const std::int32_t* rowZero, const Epilogue& e, float* out,
              Int8Scratch& s) {
    const bool relu = e.activation.kind == ActivationKind::Relu;
    if (w.anyOffset) s.rowSums.resize(static_cast<std::size_t>(rows));
    for (int g = 0; g < w.groupCount(); ++g) {
        const PackedB& b = w.groups[static_cast<std::size_t>(g)];
        const int c0 = g * w.groupRows;
        if (w.anyOffset) {
            rowSumsOf(a, rows, lda, c0, b.k, s.rowSums.data());
            for (long long r = 0; r < rows; ++r)
                s.rowSums[r] -= rowZero[r] * b.k;  // sum of (code - zero)
        }
        Requant q;
        q.rowScale = rowScale;
        q.rowZero = rowZero;
        q.rowCentred = w.anyOffset ? s.rowSums.data() : nullptr;
        q.colStep = w.steps.data() + static_cast<std::size_t>(g) * w.n;
        q.colOffset = w.anyOffset ? w.offsets.data() + static_cast<std::size_t>(g) * w.n : nullptr;
        q.accumulate = g > 0;
        q.finish = g + 1 == w.groupCount();
        q.bias = e.bias;
        q.scale = e.scale;
        q.shift = e.shift;
        q.relu = relu;
        q.out = out;
        q.ldo = w.n;
        gemmU8S8Requant(isa, a + c0, static_cast<int>(rows), lda, b, q);
    }
    if (!relu && !e.activation.isLinear()) cpu::applyActivation(e.activation, out, rows * w.n);
}

// Row stride of A: every group's start is a multiple of 4 (group sizes are 32, 64, 128 or
// the whole depth) and the last group reads up to its padded depth.
int strideFor(const Int8Weights& w) {
    return (w.groupCount() - 1) * w.groupRows + w.groups.back().kPadded;
}

// A valid convolution read straight from each quantized image (int8_gemm.h, ImplicitConv).
// Returns false, doing nothing, where the weights' packing does not allow it.
bool convolveImplicitly(const Window2D& win, const Int8Weights& w, const Epilogue& epilogue,
                        const float* in, int batch, float* out, Int8Scratch& s) {
    ImplicitConv implicit = ImplicitConv::of(win);
    const PackedB& b = w.paddedKernelRows.k > 0 ? w.paddedKernelRows : w.groups[0];
    if (!implicitConvAvailable(implicit, b)) return false;
    const long long pixels = win.outputPixels();
    const bool relu = epilogue.activation.kind == ActivationKind::Relu;
    for (int image = 0; image < batch; ++image) {
        float scale = 1.f;
        std::int32_t zero = 0;
        quantizeRows(in + image * win.inputSize(), 1, static_cast<int>(win.inputSize()),
                     s.image.data(), static_cast<int>(win.inputSize()), &scale, &zero);
        implicit.image = s.image.data();
        ImageRequant q;
        q.step = scale;
        q.zero = zero;
        q.colStep = w.steps.data();
        q.colOffset = w.anyOffset ? w.offsets.data() : nullptr;
        q.bias = epilogue.bias;
        q.scale = epilogue.scale;
        q.shift = epilogue.shift;
        q.relu = relu;
        q.out = out + image * pixels * w.n;
        convU8S8Implicit(implicit, b, q);
    }
    if (!relu && !epilogue.activation.isLinear())
        cpu::applyActivation(epilogue.activation, out, pixels * batch * w.n);
    return true;
}

}  // namespace

bool weightsFromGrid(const float* w, int k, int n, const KernelGrid& grid, Int8Weights& out,
                     std::string& why) {
    if (!grid.quantized) {
        why = "not quantized";
        return false;
    }
    if (std::min(k, grid.granularity == Granularity::Group ? grid.groupSize : k) > kMaxDepth) {
        why = "a depth of " + std::to_string(k) + " would overflow the int32 accumulators";
        return false;
    }
    out = Int8Weights{};
    out.k = k;
    out.n = n;
    out.groupRows = grid.granularity == Granularity::Group ? grid.groupSize : k;
    const int groups = (k + out.groupRows - 1) / out.groupRows;
    auto stepOf = [&](int g, int j) -> float {
        switch (grid.granularity) {
            case Granularity::Tensor:
                return grid.steps[0];
            case Granularity::Channel:
                return grid.steps[static_cast<std::size_t>(j)];
            case Granularity::Group:
                return grid.steps[static_cast<std::size_t>(g) * n + j];
        }
        return 0.f;
    };
    const std::size_t expectedSteps = grid.granularity == Granularity::Tensor ? 1
                                      : grid.granularity == Granularity::Channel
                                          ? static_cast<std::size_t>(n)
                                          : static_cast<std::size_t>(groups) * n;
    if (grid.steps.size() != expectedSteps) {
        why = "the grid does not match the kernel's shape";
        return false;
    }
    // Codes exactly: the compression computed every weight as code * step.
    std::vector<std::int32_t> codes(static_cast<std::size_t>(k) * n);
    for (int r = 0; r < k; ++r)
        for (int j = 0; j < n; ++j) {
            const float step = stepOf(r / out.groupRows, j),
                        v = w[static_cast<std::size_t>(r) * n + j];
            const float code = step == 0.f ? 0.f : roundHalfAway(v / step);
            if (std::fabs(code) > 1e6f || code * step != v) {
                why = "the weights are not on the compression grid";
                return false;
            }
            codes[static_cast<std::size_t>(r) * n + j] = static_cast<std::int32_t>(code);
        }
    // Per (group, column): an offset so that the stored codes fit int8. Where AVX2 runs the
    // product and every unit of a group spans at most 129 codes, the codes are kept in
    // [-64, 64] instead, for the faster byte-pair kernel (byte_pairs_avx2.h); elsewhere those
    // offsets would only cost.
    const bool pairs = bestIsa() == Isa::Avx2;
    out.steps.resize(static_cast<std::size_t>(groups) * n);
    out.offsets.assign(static_cast<std::size_t>(groups) * n, 0);
    std::vector<std::int8_t> stored(codes.size());
    std::vector<std::int32_t> mins(static_cast<std::size_t>(n)), maxs(static_cast<std::size_t>(n));
    std::int32_t lo = 0, hi = 0;
    for (int g = 0; g < groups; ++g) {
        const int r0 = g * out.groupRows, r1 = std::min(k, r0 + out.groupRows);
        bool narrow = true;
        for (int j = 0; j < n; ++j) {
            std::int32_t mn = std::numeric_limits<std::int32_t>::max(),
                         mx = std::numeric_limits<std::int32_t>::min();
            for (int r = r0; r < r1; ++r) {
                mn = std::min(mn, codes[static_cast<std::size_t>(r) * n + j]);
                mx = std::max(mx, codes[static_cast<std::size_t>(r) * n + j]);
            }
            if (static_cast<std::int64_t>(mx) - mn > 255) {
                why = "codes span " + std::to_string(static_cast<std::int64_t>(mx) - mn + 1) +
                      " values in one unit (more than 8 bits)";
                return false;
            }
            mins[j] = mn;
            maxs[j] = mx;
            narrow = narrow && static_cast<std::int64_t>(mx) - mn <= 2 * detail::kBytePairLimit;
        }
        // stored = code - offset lies in [lowest, highest].
        const std::int32_t lowest = pairs && narrow ? -detail::kBytePairLimit : -128;
        const std::int32_t highest = pairs && narrow ? detail::kBytePairLimit : 127;
        for (int j = 0; j < n; ++j) {
            const std::int32_t mn = mins[j], mx = maxs[j];
            lo = std::min(lo, mn);
            hi = std::max(hi, mx);
            const std::int32_t offset = mn >= lowest && mx <= highest ? 0 : mn - lowest;
            out.offsets[static_cast<std::size_t>(g) * n + j] = offset;
            out.anyOffset = out.anyOffset || offset != 0;
            out.steps[static_cast<std::size_t>(g) * n + j] = stepOf(g, j);
            for (int r = r0; r < r1; ++r)
                stored[static_cast<std::size_t>(r) * n + j] =
                    static_cast<std::int8_t>(codes[static_cast<std::size_t>(r) * n + j] - offset);
        }
    }
    out.codeBits = effectiveBits(static_cast<long long>(hi) - lo + 1);
    packGroups(stored, k, n, out);
    return true;
}

Int8Weights requantizePerChannel(const float* w, int k, int n) {
    if (k > kMaxDepth)
        throw Error("a layer with " + std::to_string(k) +
                    " inputs per output is too deep for the int8 kernels (at most " +
                    std::to_string(kMaxDepth) + "); use --kernel float or sparse");
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
        for (int r = 0; r < k; ++r)
            maxAbs = std::max(maxAbs, std::fabs(w[static_cast<std::size_t>(r) * n + j]));
        const AffineQuantizer q = makeSymmetricQuantizer(maxAbs, 8);
        out.steps[static_cast<std::size_t>(j)] = q.step;
        for (int r = 0; r < k; ++r)
            stored[static_cast<std::size_t>(r) * n + j] =
                static_cast<std::int8_t>(q.code(w[static_cast<std::size_t>(r) * n + j]));
    }
    out.codeBits = 8;
    packGroups(stored, k, n, out);
    return out;
}

void prepareConvolution(Int8Weights& w, const Window2D& win) {
    w.paddedKernelRows = PackedB{};
    if (w.groupCount() != 1 || (win.kernelW * win.channels) % 4 == 0) return;
    w.paddedKernelRows = packKernelRows(w.groups[0], win.kernelH, win.kernelW, win.channels);
}

void quantizeRows(const float* x, long long rows, int k, std::uint8_t* q, int lda, float* scales,
                  std::int32_t* zeros) {
    const bool vector = haveAvx512();
    for (long long r = 0; r < rows; ++r) {
        const float* row = x + r * k;
        float lo = 0.f, hi = 0.f;
        if (vector) {
            rangeAvx512(row, k, lo, hi);
        } else {
            for (int j = 0; j < k; ++j) {
                lo = row[j] < lo ? row[j] : lo;
                hi = row[j] > hi ? row[j] : hi;
            }
        }
        const AffineQuantizer aq = makeAsymmetricQuantizer(lo, hi, 8);
        const float step = aq.step > 0.f ? aq.step : 1.f;
        const float inverse = 1.f / step;
        std::uint8_t* out = q + r * lda;
        if (vector) {
            codesAvx512(row, k, inverse, aq.zeroPoint, out);
        } else {
            // Nearest, ties to even (what the vector conversion does), then the zero point.
            for (int j = 0; j < k; ++j) {
                const auto v =
                    static_cast<std::int32_t>(std::nearbyint(row[j] * inverse)) + aq.zeroPoint;
                out[j] = static_cast<std::uint8_t>(std::clamp(v, 0, 255));
            }
        }
        std::memset(out + k, 0, static_cast<std::size_t>(lda - k));
        scales[r] = step;
        zeros[r] = aq.zeroPoint;
    }
}

void denseInt8(Isa isa, const Int8Weights& w, const Epilogue& epilogue, const float* in,
               long long rows, float* out, Int8Scratch& s) {
    const int lda = strideFor(w);
    s.a.resize(static_cast<std::size_t>(rows) * lda);
    s.rowScale.resize(static_cast<std::size_t>(rows));
    s.rowZero.resize(static_cast<std::size_t>(rows));
    quantizeRows(in, rows, w.k, s.a.data(), lda, s.rowScale.data(), s.rowZero.data());
    multiply(isa, w, s.a.data(), rows, lda, s.rowScale.data(), s.rowZero.data(), epilogue, out, s);
}

void conv2dInt8(Isa isa, const Window2D& win, const Int8Weights& w, const Epilogue& epilogue,
                const float* in, int batch, float* out, Int8Scratch& s) {
    const std::size_t channels = static_cast<std::size_t>(std::max(win.channels, 0));
    const long long pixels = win.outputPixels();
    const long long rows = pixels * batch;
    const int lda = strideFor(w);
    std::vector<std::uint8_t>& image = s.image;
    image.resize(static_cast<std::size_t>(win.inputSize()) + 4, 0);  // slack for the implicit reads
    // Valid convolutions read the image directly, no patches.
    const bool valid = win.padTop == 0 && win.padLeft == 0 &&
                       (win.outH - 1) * win.strideH + win.kernelH <= win.inH &&
                       (win.outW - 1) * win.strideW + win.kernelW <= win.inW;
    if (isa == Isa::Avx512Vnni && valid && w.groupCount() == 1 &&
        convolveImplicitly(win, w, epilogue, in, batch, out, s))
        return;
    s.a.resize(static_cast<std::size_t>(rows) * lda);
    s.rowScale.resize(static_cast<std::size_t>(rows));
    s.rowZero.resize(static_cast<std::size_t>(rows));
    // Patches of every image in one matrix, so that one product covers the whole batch;
    // rows carry their image's scale and zero point (one per image: the padding of the
    // patches is that zero point, exactly 0.0).
    for (int b = 0; b < batch; ++b) {
        float scale = 1.f;
        std::int32_t zero = 0;
        quantizeRows(in + b * win.inputSize(), 1, static_cast<int>(win.inputSize()), image.data(),
                     static_cast<int>(win.inputSize()), &scale, &zero);
        std::fill_n(s.rowScale.begin() + b * pixels, pixels, scale);
        std::fill_n(s.rowZero.begin() + b * pixels, pixels, zero);
        const auto pad = static_cast<std::uint8_t>(zero);
        const std::size_t run =
            channels * static_cast<std::size_t>(win.kernelW);  // one kernel row of a patch
        for (int oy = 0; oy < win.outH; ++oy)
            for (int ox = 0; ox < win.outW; ++ox) {
                std::uint8_t* row =
                    s.a.data() + ((b * pixels) + static_cast<long long>(oy) * win.outW + ox) * lda;
                std::uint8_t* dst = row;
                const int ix0 = ox * win.strideW - win.padLeft;
                const bool columnsInside = ix0 >= 0 && ix0 + win.kernelW <= win.inW;
                for (int ky = 0; ky < win.kernelH; ++ky, dst += run) {
                    const int iy = oy * win.strideH - win.padTop + ky;
                    if (iy < 0 || iy >= win.inH) {
                        std::memset(dst, pad, run);
                        continue;
                    }
                    const std::uint8_t* src =
                        image.data() + static_cast<std::size_t>(iy) * win.inW * channels;
                    if (columnsInside) {  // the kernel row is contiguous in the image
                        std::memcpy(dst, src + static_cast<std::size_t>(ix0) * channels, run);
                        continue;
                    }
                    for (int kx = 0; kx < win.kernelW; ++kx) {
                        const int ix = ix0 + kx;
                        if (ix < 0 || ix >= win.inW)
                            std::memset(dst + kx * channels, pad, channels);
                        else
                            std::memcpy(dst + kx * channels,
                                        src + static_cast<std::size_t>(ix) * channels, channels);
                    }
                }
                std::memset(dst, 0, static_cast<std::size_t>(row + lda - dst));
            }
    }
    multiply(isa, w, s.a.data(), rows, lda, s.rowScale.data(), s.rowZero.data(), epilogue, out, s);
}

}  // namespace cwb::int8
