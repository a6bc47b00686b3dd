// Implicit int8 convolution (see implicit_conv.h).
#include "core/infer/int8/implicit_conv.h"

#include <algorithm>
#include <vector>

#include "core/error.h"
#include "core/infer/int8/vector_target.h"

namespace cwb::int8 {
namespace {

// Register tiles are arrays indexed by loops of constant trip count; they stay in registers
// only when those loops are unrolled completely.
#if defined(__clang__)
#define CWB_UNROLL _Pragma("unroll")
#else
#define CWB_UNROLL _Pragma("GCC unroll 16")
#endif

constexpr int kPixels = 4;  // output pixels per register tile
constexpr int kBlocks = 4;  // 16-filter blocks per register tile: 16 accumulators

// What the requantization of 16 filters needs. The pixels of an image share its step and
// zero point, so these are computed once per image; a missing bias is 0, a missing
// BatchNormalization the identity.
// alignas: a build without AVX-512 enabled for the whole file (CWB_NATIVE off, or built on
// an AVX2 machine) caps __m512i's alignment at 32, yet the VNNI code moves these with 64-byte
// aligned instructions (a general protection fault on the first use, seen on a Xeon).
struct alignas(64) ColumnBlock {
    __m512i zeroSums, offsets;
    __m512 scaledStep, bias, scale, shift;
    __mmask16 mask;
};
static_assert(alignof(ColumnBlock) == 64);

CWB_VNNI std::vector<ColumnBlock> columnBlocks(const PackedB& b, const ImageRequant& q) {
    std::vector<ColumnBlock> blocks(static_cast<std::size_t>(b.nPadded / 16));
    for (std::size_t block = 0; block < blocks.size(); ++block) {
        const int j0 = static_cast<int>(block) * 16, left = b.n - j0;
        const __mmask16 m = left >= 16 ? __mmask16(0xffff) : __mmask16((1u << left) - 1u);
        ColumnBlock& c = blocks[block];
        c.mask = m;
        c.zeroSums = _mm512_mullo_epi32(_mm512_set1_epi32(q.zero),
                                        _mm512_maskz_loadu_epi32(m, b.columnSums.data() + j0));
        c.offsets =
            q.colOffset ? _mm512_maskz_loadu_epi32(m, q.colOffset + j0) : _mm512_setzero_si512();
        c.scaledStep =
            _mm512_mul_ps(_mm512_set1_ps(q.step), _mm512_maskz_loadu_ps(m, q.colStep + j0));
        c.bias = q.bias ? _mm512_maskz_loadu_ps(m, q.bias + j0) : _mm512_setzero_ps();
        c.scale = q.scale ? _mm512_maskz_loadu_ps(m, q.scale + j0) : _mm512_set1_ps(1.f);
        c.shift = q.scale ? _mm512_maskz_loadu_ps(m, q.shift + j0) : _mm512_setzero_ps();
    }
    return blocks;
}

// Pixel positions in output order, each the start of its patch in the image.
class PatchWalk {
public:
    explicit PatchWalk(const ImplicitConv& cv)
        : m_cv(cv),
          m_step(static_cast<long long>(cv.strideW) * cv.channels),
          m_rowStep(static_cast<long long>(cv.strideH) * cv.inW * cv.channels),
          m_row(cv.image),
          m_next(cv.image) {}
    const std::uint8_t* next() {
        const std::uint8_t* here = m_next;
        if (++m_x == m_cv.outW) {
            m_x = 0;
            m_row += m_rowStep;
            m_next = m_row;
        } else {
            m_next += m_step;
        }
        return here;
    }

private:
    const ImplicitConv& m_cv;
    long long m_step, m_rowStep;
    const std::uint8_t* m_row;
    const std::uint8_t* m_next;
    int m_x = 0;
};

// What one filter-block column of the product shares across its pixels.
struct alignas(64) BlockColumn {  // alignas: as ColumnBlock
    const std::int8_t* weights[kBlocks];
    const ColumnBlock* columns;
    int block0;
    int quadsPerRow;
    long long rowBytes;
    __m512i ones,
        lastOnes;  // B lines of ones over a kernel row's real bytes (the last group may be partial)
    __m512i
        zeroTaps;  // zero point times the real taps: a patch's sum of codes minus this is centred
};

// R pixels x V filter blocks: the broadcast for pixel r and 4-byte group q comes from the
// image at that pixel's patch, kernel row by kernel row. With Offsets the same broadcasts
// also sum each patch's codes (against a line of ones), which the offsets' correction
// needs. Offsets and Relu are template arguments so that the requantization has no branches.
template <int R, int V, bool Offsets, bool Relu>
CWB_VNNI inline void tile(const ImplicitConv& cv, const std::uint8_t* const* base,
                          const BlockColumn& bc, const ImageRequant& q, int n, int pixel0) {
    __m512i acc[R][V], sums[R];
    CWB_UNROLL for (int r = 0; r < R; ++r) {
        sums[r] = _mm512_setzero_si512();
        CWB_UNROLL for (int v = 0; v < V; ++v) acc[r][v] = _mm512_setzero_si512();
    }
    int quad = 0;
    for (int ky = 0; ky < cv.kernelH; ++ky)
        for (int j = 0; j < bc.quadsPerRow; ++j, ++quad) {
            __m512i bv[V];
            CWB_UNROLL for (int v = 0; v < V; ++v) bv[v] =
                _mm512_load_si512(bc.weights[v] + quad * 64);
            const __m512i ones = j + 1 == bc.quadsPerRow ? bc.lastOnes : bc.ones;
            CWB_UNROLL for (int r = 0; r < R; ++r) {
                const __m512i av = _mm512_set1_epi32(loadQuad(base[r] + ky * bc.rowBytes + j * 4));
                CWB_UNROLL for (int v = 0; v < V; ++v) acc[r][v] =
                    _mm512_dpbusd_epi32(acc[r][v], av, bv[v]);
                if constexpr (Offsets) sums[r] = _mm512_dpbusd_epi32(sums[r], av, ones);
            }
        }
    CWB_UNROLL for (int r = 0; r < R; ++r) {
        const __m512i centred = _mm512_sub_epi32(sums[r], bc.zeroTaps);
        CWB_UNROLL for (int v = 0; v < V; ++v) {
            const ColumnBlock& c = bc.columns[bc.block0 + v];
            __m512i t = _mm512_sub_epi32(acc[r][v], c.zeroSums);
            if constexpr (Offsets) t = _mm512_add_epi32(t, _mm512_mullo_epi32(centred, c.offsets));
            __m512 y = _mm512_add_ps(_mm512_mul_ps(c.scaledStep, _mm512_cvtepi32_ps(t)), c.bias);
            y = _mm512_add_ps(_mm512_mul_ps(y, c.scale), c.shift);
            if constexpr (Relu) y = _mm512_max_ps(y, _mm512_setzero_ps());
            _mm512_mask_storeu_ps(
                q.out + static_cast<long long>(pixel0 + r) * n + 16 * (bc.block0 + v), c.mask, y);
        }
    }
}

// Every pixel of the image against V filter blocks, kPixels at a time.
template <int V, bool Offsets, bool Relu>
CWB_VNNI void blockColumn(const ImplicitConv& cv, const BlockColumn& bc, const ImageRequant& q,
                          int n) {
    const int pixels = cv.outH * cv.outW;
    PatchWalk walk(cv);
    const std::uint8_t* base[kPixels];
    int i = 0;
    for (; i + kPixels <= pixels; i += kPixels) {
        for (int r = 0; r < kPixels; ++r) base[r] = walk.next();
        tile<kPixels, V, Offsets, Relu>(cv, base, bc, q, n, i);
    }
    for (; i < pixels; ++i) {
        base[0] = walk.next();
        tile<1, V, Offsets, Relu>(cv, base, bc, q, n, i);
    }
}

// A line of 16 lanes whose first `bytes` bytes (of 4) are 1.
CWB_VNNI __m512i onesLine(int bytes) {
    std::uint32_t lane = 0;
    for (int i = 0; i < bytes; ++i) lane |= 1u << (8 * i);
    return _mm512_set1_epi32(static_cast<int>(lane));
}

template <bool Offsets, bool Relu>
CWB_VNNI void convolve(const ImplicitConv& cv, const PackedB& b, const ImageRequant& q) {
    const std::vector<ColumnBlock> columns = columnBlocks(b, q);
    const int rowBytes = cv.kernelW * cv.channels;
    BlockColumn bc;
    bc.columns = columns.data();
    bc.quadsPerRow = cv.quadsPerKernelRow();
    bc.rowBytes = static_cast<long long>(cv.inW) * cv.channels;
    bc.ones = onesLine(4);
    bc.lastOnes = onesLine(rowBytes % 4 == 0 ? 4 : rowBytes % 4);
    bc.zeroTaps = _mm512_set1_epi32(q.zero * cv.kernelH * rowBytes);
    const int blocks = b.nPadded / 16;
    for (int block = 0; block < blocks; block += kBlocks) {
        bc.block0 = block;
        const int v = std::min(kBlocks, blocks - block);
        for (int i = 0; i < v; ++i) bc.weights[i] = b.block(block + i);
        switch (v) {
            case 4:
                blockColumn<4, Offsets, Relu>(cv, bc, q, b.n);
                break;
            case 3:
                blockColumn<3, Offsets, Relu>(cv, bc, q, b.n);
                break;
            case 2:
                blockColumn<2, Offsets, Relu>(cv, bc, q, b.n);
                break;
            default:
                blockColumn<1, Offsets, Relu>(cv, bc, q, b.n);
                break;
        }
    }
}

}  // namespace

PackedB packKernelRows(const PackedB& b, int kernelH, int kernelW, int channels) {
    const int rowBytes = kernelW * channels, paddedRow = (rowBytes + 3) / 4 * 4;
    if (b.k != kernelH * rowBytes)
        throw Error("internal: int8 kernel rows do not match the convolution");
    std::vector<std::int8_t> padded(static_cast<std::size_t>(kernelH) * paddedRow * b.n, 0);
    for (int kk = 0; kk < b.k; ++kk)
        for (int j = 0; j < b.n; ++j) {
            const int block = j / 16, col = j % 16, quad = kk / 4, lane = kk % 4;
            const int row = (kk / rowBytes) * paddedRow + kk % rowBytes;
            padded[static_cast<std::size_t>(row) * b.n + j] =
                b.lines[static_cast<std::size_t>(block) * b.quads() + quad].bytes[col * 4 + lane];
        }
    return packB(padded.data(), kernelH * paddedRow, b.n);
}

bool implicitConvAvailable(const ImplicitConv& cv, const PackedB& b) {
    return isaAvailable(Isa::Avx512Vnni) && b.k == cv.kernelH * cv.quadsPerKernelRow() * 4 &&
           b.kPadded == b.k;
}

void convU8S8Implicit(const ImplicitConv& cv, const PackedB& b, const ImageRequant& q) {
    if (!implicitConvAvailable(cv, b))
        throw Error("internal: implicit int8 convolution used where it does not apply");
    const bool offsets = q.colOffset != nullptr;
    if (offsets && q.relu)
        convolve<true, true>(cv, b, q);
    else if (offsets)
        convolve<true, false>(cv, b, q);
    else if (q.relu)
        convolve<false, true>(cv, b, q);
    else
        convolve<false, false>(cv, b, q);
}

}  // namespace cwb::int8
