// Rows and matrices of weights in llama.cpp's block formats (and F32/F16/BF16), for the
// language-model forward pass: decode or encode a row, a dot product of a packed weight row
// with an activation row quantized once per token, and a multithreaded product of a packed
// matrix with a batch of activations that never converts the weights to float32.
//
// Stable API: the forward pass calls these.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "core/model/dtype.h"

namespace cwb::quant {

// Whether `type` can be a weight row here: a block dtype with a dot product (not Q8_1/Q8_K
// alone), F32, F16 or BF16.
bool isWeightType(DType type);
// Bytes of a row of n values; n must be a multiple of the block size (throws otherwise).
std::size_t rowBytes(DType type, std::int64_t n);

// Exact decoding of n values (block dtypes, F32, F16, BF16).
void dequantizeRow(DType type, const std::byte* row, float* out, std::int64_t n);
// Encoding by the reference rules (llama.cpp's quantize_row_*_ref; F16/BF16 round to nearest
// even), with the active Isa's encoder (the reference's bytes). `out` holds rowBytes(type, n).
void quantizeRow(DType type, const float* in, std::byte* out, std::int64_t n);
// What quantizeRow then dequantizeRow would do to n values of a block weight format, without
// writing the blocks: the sum over the values of (decoded - original)^2, each difference and
// square in double, with the active Isa's kernel. Throws cwb::Error for a type that is not a
// block format or n that is not whole blocks of it.
double quantizationError(DType type, const float* in, std::int64_t n);
// quantizationError of each of `types` on the same n values, errors[k] for types[k], each
// equal to quantizationError's bit for bit. On AVX2 the 32-value formats among them share
// one pass (the loads and each block's extremes); the K formats run one after another.
void quantizationErrors(std::span<const DType> types, const float* in, std::int64_t n,
                        double* errors);
// The sum of x^2 over n values, each square in double (vectorised; the order of additions
// is fixed for a given n and Isa), and where asked their least and greatest (NaN left out).
double sumOfSquares(const float* in, std::int64_t n, float* min = nullptr, float* max = nullptr);
// dequantizeRow, and sumOfSquares of the decoded values, in one pass for F16 and BF16 rows
// (the same figures; the whole-model table decodes each row with it). The extremes are
// looked for only where asked.
double dequantizeRowSquares(DType type, const std::byte* row, float* out, std::int64_t n,
                            float* min = nullptr, float* max = nullptr);

// The activation format a weight row of `weightType` is multiplied with: Q8_0, Q8_1, Q8_K,
// or F32 for F32/F16/BF16 weights.
DType activationType(DType weightType);
// Quantizes an activation row for weights of `weightType` (F32: a copy), with the active
// Isa's kernel; the bytes equal the reference quantizer's.
void quantizeActivationRow(DType weightType, const float* in, std::byte* out, std::int64_t n);
// Dot product of a weight row with an activation row from quantizeActivationRow, with the
// active Isa's kernel.
float vecDot(DType weightType, const std::byte* weightRow, const std::byte* activationRow,
             std::int64_t n);

// A row-major matrix of `rows` rows of `cols` values in `type`, each row rowStride bytes
// apart (0: rowBytes(type, cols), rows back to back). Not owning.
struct PackedMatrix {
    DType type = DType::F32;
    const std::byte* data = nullptr;
    std::int64_t rows = 0, cols = 0;
    std::size_t rowStride = 0;
    // Q4_0 and Q4_K only: the rows in interleaveRows' layout (rowStride 0).
    bool interleaved = false;
};

// Q4_0 and Q4_K rows interleaved by eight for generation: block i of each group of eight
// rows holds the eight rows' fp16 fields side by side (Q4_0: the scales; Q4_K: the scales,
// then the minimums' scales), then the rest of the eight blocks in runs of 32 bytes, run j
// holding bytes 4j..4j+3 of it from each row (row k at 4k); rows after the last whole group
// stay as they are. The same bytes as the plain rows, so one activation load serves eight
// rows (gemv_q4_0x8_avx2.cpp, gemv_q4_kx8_avx2.cpp). `out` holds rows * rowBytes(type, cols)
// bytes; other types are refused (cwb::Error).
void interleaveRows(DType type, const std::byte* rows, std::int64_t rowCount, std::int64_t cols,
                    std::byte* out);
// Rows [begin, end) of such a matrix back in the plain layout, back to back in `out`.
void plainRows(DType type, const std::byte* interleaved, std::int64_t rowCount, std::int64_t cols,
               std::int64_t begin, std::int64_t end, std::byte* out);
// Whether rows of `type` can be interleaved and the active Isa has their product (else
// interleaved rows are turned back a chunk at a time, correct but slower).
bool hasInterleavedRows(DType type);

// A batch of `tokens` activation rows of `cols` values quantized for one weight dtype, to be
// reused by every matrix of a compatible dtype (q, k, v; gate, up).
struct ActivationRows {
    DType type = DType::F32;  // activationType(weight dtype)
    std::int64_t tokens = 0, cols = 0;
    std::size_t rowBytes = 0;
    std::vector<std::byte> bytes;
    const std::byte* row(std::int64_t t) const { return bytes.data() + t * rowBytes; }
};
ActivationRows quantizeActivations(DType weightType, const float* x, std::int64_t tokens,
                                   std::int64_t cols, int threads = 1);

// y[t * ldy + r] = dot(row r of w, activation row t) for t < tokens, r < w.rows; ldy 0 means
// w.rows. Split over rows on `threads` workers (a pool kept per thread count); each value
// is computed by one dot product, so y does not depend on the thread count. Batches of at
// least kBatchTokens tokens go through tiles of weight rows: for block formats their results
// equal the reference dot products bit for bit, for F32/F16/BF16 within float rounding;
// smaller batches use vecDot's kernel (equal to the reference within float rounding).
constexpr std::int64_t kBatchTokens = 4;
void matmulPacked(const PackedMatrix& w, const ActivationRows& x, float* y, int threads,
                  std::int64_t ldy = 0);
// One product of a group: weights w, results y[t * ldy + r] (ldy 0: w.rows).
struct PackedProduct {
    PackedMatrix w;
    float* y = nullptr;
    std::int64_t ldy = 0;
};
// Several matrices against the same activations (q, k and v; gate and up) as matmulPacked
// computes each, their rows shared out between the threads as one job: one wake-up and one
// join of the workers instead of one per matrix. The activations must fit every matrix.
void matmulPackedGroup(std::span<const PackedProduct> products, const ActivationRows& x,
                       int threads);
// The same from float activations x [tokens x w.cols], quantized once here.
void matmulPacked(const PackedMatrix& w, const float* x, std::int64_t tokens, float* y, int threads,
                  std::int64_t ldy = 0);

}  // namespace cwb::quant
