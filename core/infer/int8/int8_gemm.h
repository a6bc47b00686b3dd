// Integer matrix products for compressed layers: C (int32) = A (uint8) * B (int8), the
// product behind int8 Dense and Conv2D layers. The kernels give identical integers:
// AVX-512 VNNI (vpdpbusd); AVX2, with byte pairs (vpmaddubsw, byte_pairs_avx2.h) where every
// |B| <= 64 so that no pair can saturate, else 16-bit multiply-adds; and a scalar reference
// on the unpacked weights.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace cwb::int8 {

enum class Isa { Scalar, Avx2, Avx512Vnni };

// The fastest kernel this build and CPU can run.
Isa bestIsa();
bool isaAvailable(Isa isa);
std::string isaName(Isa isa);  // "avx512-vnni", "avx2", "scalar"

// B (k x n, row-major int8) packed for the kernels: k padded to a multiple of 4 and n to a
// multiple of 16 with zeros; each 16-column block stores, per 4 rows, the 4 bytes of each
// column together (the operand layout of vpdpbusd).
struct PackedB {
    struct alignas(64) Line {
        std::int8_t bytes[64];  // 16 columns x 4 rows of k
    };
    int k = 0, n = 0, kPadded = 0, nPadded = 0;
    std::vector<Line> lines;               // (nPadded / 16) blocks of quads() lines
    std::vector<std::int32_t> columnSums;  // sum over k of B, per column (n entries)
    int maxAbs = 0;                        // the largest |B| (narrow B: faster AVX2 kernel)

    int quads() const { return kPadded / 4; }
    const std::int8_t* block(int columnBlock) const {
        return lines[static_cast<std::size_t>(columnBlock) * quads()].bytes;
    }
};

PackedB packB(const std::int8_t* b, int k, int n);

// C (m x n, row stride ldc) = A (m x k, uint8, row stride lda >= b.kPadded; the padding
// columns of A may hold anything, B is zero there) * B.
void gemmU8S8(Isa isa, const std::uint8_t* a, int m, int lda, const PackedB& b, std::int32_t* c,
              int ldc);

// The float result of an int8 layer computed from the integer products in registers, so
// that the int32 matrix is never stored: for row i and column j
//   t = C[i][j] - rowZero[i] * colSums[j] (+ colOffset[j] * rowCentred[i])
//   y = (rowScale[i] * colStep[j]) * float(t)   (+ out[i][j] when accumulating)
// and, when `finish`: y += bias[j]; y = y * scale[j] + shift[j]; y = max(y, 0) if relu.
struct Requant {
    const float* rowScale = nullptr;
    const std::int32_t* rowZero = nullptr;
    const std::int32_t* rowCentred = nullptr;  // with colOffset, else null
    const float* colStep = nullptr;
    const std::int32_t* colOffset = nullptr;
    bool accumulate = false;
    bool finish = true;
    const float* bias = nullptr;
    const float* scale = nullptr;
    const float* shift = nullptr;
    bool relu = false;
    float* out = nullptr;
    int ldo = 0;
};

// out = requant(A * B). int32 intermediates: b.k * 255 * 383 must stay below 2^31.
void gemmU8S8Requant(Isa isa, const std::uint8_t* a, int m, int lda, const PackedB& b,
                     const Requant& r);

// Reference on the unpacked B (k x n): three plain loops.
void gemmU8S8Ref(const std::uint8_t* a, int m, int k, int lda, const std::int8_t* b, int n,
                 std::int32_t* c, int ldc);

}  // namespace cwb::int8
