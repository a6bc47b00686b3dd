// Batched products of packed weights with many tokens (prefill), AVX2. A tile of 8 weight
// rows is decoded once into unsigned byte codes and transposed so that each int32 lane of a
// register belongs to one row: one step multiplies 4 values of 8 rows with the same 4
// activation bytes, broadcast (maddubs, then madd with the rows' scales or with ones). The
// tile stays in cache while every token passes over it.
//
// Each lane repeats its row's reference dot product exactly: the same integer sums per block
// (offsets and minimums through the activations' block sums), then the same float products
// and additions in the same order, so the results equal the reference kernels bit for bit.
#include <algorithm>
#include <vector>

#include "core/quant/avx2_blocks.h"
#include "core/quant/k_scales.h"
#include "core/quant/kernels.h"
#include "core/quant/tile_common.h"
#include "core/quant/tile_kernels.h"

namespace cwb::quant::detail {
namespace {

using namespace avx2;
using namespace tiles;

constexpr int kTileRows = 8;

CWB_QUANT_AVX2 inline __m256i broadcast4(const std::int8_t* p) {
    std::int32_t v;
    std::memcpy(&v, p, 4);
    return _mm256_set1_epi32(v);
}

// int16 lanes 2k and 2k + 1 hold the value of row k: a multiplier for madd.
CWB_QUANT_AVX2 inline __m256i rowPairs(const int* perRow) {
    alignas(32) std::uint32_t v[8];
    for (int k = 0; k < 8; ++k) {
        const auto bits = static_cast<std::uint32_t>(perRow[k]) & 0xffffu;
        v[k] = bits | (bits << 16);
    }
    return _mm256_load_si256(reinterpret_cast<const __m256i*>(v));
}
CWB_QUANT_AVX2 inline __m256i rowPairs(const int* even, const int* odd) {
    alignas(32) std::int16_t v[16];
    for (int k = 0; k < 8; ++k) {
        v[2 * k] = static_cast<std::int16_t>(even[k]);
        v[2 * k + 1] = static_cast<std::int16_t>(odd[k]);
    }
    return _mm256_load_si256(reinterpret_cast<const __m256i*>(v));
}

// One register's worth of a tile (a struct: vector types lose their attributes as template
// arguments). alignas: a translation unit built without AVX gives __m256i only 16-byte
// alignment, while the AVX2 code stores with aligned moves.
struct alignas(32) Reg {
    __m256i v;
};

// The decoded tile, reused by one thread from tile to tile.
struct Tile {
    std::vector<Reg> codes;       // [block or super-block step][8 rows x 4 bytes]
    std::vector<Reg> scales;      // K: [super-block][16 sub-blocks] row pairs
    std::vector<Reg> bias;        // K: [super-block][8 pairs of sub-blocks] row pairs
    std::vector<float> d, extra;  // [block][8]: d and m (legacy), d and dmin (K)
};

Tile& threadTile() {
    thread_local Tile tile;
    return tile;
}

// ---- 32-value formats

template <typename Block, Legacy kind>
CWB_QUANT_AVX2 void decodeLegacy(const Block* const* rows, std::int64_t blocks, Tile& tile) {
    tile.codes.resize(static_cast<std::size_t>(blocks) * 8);
    tile.d.resize(static_cast<std::size_t>(blocks) * 8);
    tile.extra.resize(static_cast<std::size_t>(blocks) * 8);
    __m256i r[8];
    for (std::int64_t b = 0; b < blocks; ++b) {
        for (int k = 0; k < kTileRows; ++k) {
            const Block& blk = rows[k][b];
            r[k] = codes(blk);
            tile.d[b * 8 + k] = h2f(blk.d);
            if constexpr (kind == Legacy::Min) tile.extra[b * 8 + k] = h2f(blk.m);
        }
        transpose8(r);
        for (int s = 0; s < 8; ++s) tile.codes[b * 8 + s].v = r[s];
    }
}

template <typename ActBlock, Legacy kind>
CWB_QUANT_AVX2 void runLegacy(const Tile& tile, std::int64_t blocks, const std::byte* act,
                              std::size_t actStride, std::int64_t tokens,
                              const std::int32_t* blockSums, float* y, std::int64_t ldy,
                              int validRows) {
    const __m256i ones = _mm256_set1_epi16(1);
    constexpr int offset = kind == Legacy::Offset8 ? 8 : kind == Legacy::Offset16 ? 16 : 0;
    alignas(32) float out[8];
    for (std::int64_t t = 0; t < tokens; ++t) {
        const auto* a = reinterpret_cast<const ActBlock*>(act + t * actStride);
        __m256 acc = _mm256_setzero_ps();
        for (std::int64_t b = 0; b < blocks; ++b) {
            const Reg* w = tile.codes.data() + b * 8;
            __m256i sum = _mm256_setzero_si256();
            for (int s = 0; s < 8; ++s) {
                const __m256i av = broadcast4(a[b].qs + 4 * s);
                __m256i pairs;
                if constexpr (kind == Legacy::Signed)
                    pairs = _mm256_maddubs_epi16(_mm256_sign_epi8(w[s].v, w[s].v),
                                                 _mm256_sign_epi8(av, w[s].v));
                else
                    pairs = _mm256_maddubs_epi16(w[s].v, av);
                sum = _mm256_add_epi32(sum, _mm256_madd_epi16(pairs, ones));
            }
            if constexpr (offset != 0)
                sum = _mm256_sub_epi32(sum, _mm256_set1_epi32(offset * blockSums[t * blocks + b]));
            __m256 term = _mm256_mul_ps(
                _mm256_mul_ps(_mm256_loadu_ps(tile.d.data() + 8 * b), _mm256_set1_ps(h2f(a[b].d))),
                _mm256_cvtepi32_ps(sum));
            if constexpr (kind == Legacy::Min)
                term = _mm256_add_ps(term, _mm256_mul_ps(_mm256_loadu_ps(tile.extra.data() + 8 * b),
                                                         _mm256_set1_ps(h2f(a[b].s))));
            acc = _mm256_add_ps(acc, term);
        }
        _mm256_store_ps(out, acc);
        std::copy(out, out + validRows, y + t * ldy);
    }
}

// ---- K formats

template <typename Block>
CWB_QUANT_AVX2 void decodeK(const Block* const* rows, std::int64_t superBlocks, Tile& tile) {
    tile.codes.resize(static_cast<std::size_t>(superBlocks) * 64);
    tile.scales.resize(static_cast<std::size_t>(superBlocks) * 16);
    tile.bias.resize(static_cast<std::size_t>(superBlocks) * 8);
    tile.d.resize(static_cast<std::size_t>(superBlocks) * 8);
    tile.extra.resize(static_cast<std::size_t>(superBlocks) * 8);
    __m256i groups[8][8];  // [group][row]
    __m256i u[8];
    SubScales s[8];
    for (std::int64_t i = 0; i < superBlocks; ++i) {
        for (int k = 0; k < kTileRows; ++k) {
            const Block& blk = rows[k][i];
            codes(blk, u);
            for (int g = 0; g < 8; ++g) groups[g][k] = u[g];
            subScales(blk, s[k]);
            tile.d[i * 8 + k] = h2f(blk.d);
            tile.extra[i * 8 + k] = minScale(blk);
        }
        for (int g = 0; g < 8; ++g) {
            transpose8(groups[g]);
            for (int st = 0; st < 8; ++st) tile.codes[i * 64 + 8 * g + st].v = groups[g][st];
        }
        int perRow[8], even[8], odd[8];
        for (int j = 0; j < 16; ++j) {
            for (int k = 0; k < 8; ++k) perRow[k] = s[k].scale[j];
            tile.scales[i * 16 + j].v = rowPairs(perRow);
        }
        for (int p = 0; p < 8; ++p) {
            for (int k = 0; k < 8; ++k) {
                even[k] = s[k].coef[2 * p];
                odd[k] = s[k].coef[2 * p + 1];
            }
            tile.bias[i * 8 + p].v = rowPairs(even, odd);
        }
    }
}

template <Bias kind>
CWB_QUANT_AVX2 void runK(const Tile& tile, std::int64_t superBlocks, const std::byte* act,
                         std::size_t actStride, std::int64_t tokens, float* y, std::int64_t ldy,
                         int validRows) {
    alignas(32) float out[8];
    for (std::int64_t t = 0; t < tokens; ++t) {
        const auto* a = reinterpret_cast<const BlockQ8_K*>(act + t * actStride);
        __m256 acc = _mm256_setzero_ps();
        for (std::int64_t i = 0; i < superBlocks; ++i) {
            const Reg* w = tile.codes.data() + i * 64;
            const Reg* sc = tile.scales.data() + i * 16;
            __m256i sum = _mm256_setzero_si256();
            for (int j = 0; j < 16; ++j)
                for (int st = 4 * j; st < 4 * j + 4; ++st)
                    sum = _mm256_add_epi32(
                        sum,
                        _mm256_madd_epi16(
                            _mm256_maddubs_epi16(w[st].v, broadcast4(a[i].qs + 4 * st)), sc[j].v));
            const auto* bsums =
                reinterpret_cast<const std::byte*>(&a[i]) + offsetof(BlockQ8_K, bsums);
            __m256i bias = _mm256_setzero_si256();
            for (int p = 0; p < 8; ++p) {
                std::int32_t pair;
                std::memcpy(&pair, bsums + 4 * p, 4);
                bias = _mm256_add_epi32(
                    bias, _mm256_madd_epi16(tile.bias[i * 8 + p].v, _mm256_set1_epi32(pair)));
            }
            const __m256 ad = _mm256_set1_ps(a[i].d);
            const __m256 d = _mm256_loadu_ps(tile.d.data() + 8 * i);
            if constexpr (kind == Bias::Mins) {
                const __m256 t1 = _mm256_mul_ps(_mm256_mul_ps(ad, d), _mm256_cvtepi32_ps(sum));
                const __m256 t2 =
                    _mm256_mul_ps(_mm256_mul_ps(ad, _mm256_loadu_ps(tile.extra.data() + 8 * i)),
                                  _mm256_cvtepi32_ps(bias));
                acc = _mm256_add_ps(acc, _mm256_sub_ps(t1, t2));
            } else {
                const __m256 scaled = _mm256_cvtepi32_ps(_mm256_sub_epi32(sum, bias));
                acc = _mm256_add_ps(acc, _mm256_mul_ps(_mm256_mul_ps(d, ad), scaled));
            }
        }
        _mm256_store_ps(out, acc);
        std::copy(out, out + validRows, y + t * ldy);
    }
}

template <typename Block, typename ActBlock, Legacy kind>
void tilesLegacy(const TileJob& job) {
    const std::int64_t blocks = job.cols / kQK;
    Tile& tile = threadTile();
    const Block* rows[kTileRows];
    for (std::int64_t r0 = job.rowBegin; r0 < job.rowEnd; r0 += kTileRows) {
        rowPointers(job.weights, job.stride, r0, job.rowEnd, rows, kTileRows);
        decodeLegacy<Block, kind>(rows, blocks, tile);
        runLegacy<ActBlock, kind>(tile, blocks, job.activations, job.activationStride, job.tokens,
                                  job.blockSums, job.y + r0, job.ldy,
                                  static_cast<int>(std::min<std::int64_t>(8, job.rowEnd - r0)));
    }
}

template <typename Block, Bias kind>
void tilesK(const TileJob& job) {
    const std::int64_t superBlocks = job.cols / kQKK;
    Tile& tile = threadTile();
    const Block* rows[kTileRows];
    for (std::int64_t r0 = job.rowBegin; r0 < job.rowEnd; r0 += kTileRows) {
        rowPointers(job.weights, job.stride, r0, job.rowEnd, rows, kTileRows);
        decodeK<Block>(rows, superBlocks, tile);
        runK<kind>(tile, superBlocks, job.activations, job.activationStride, job.tokens, job.y + r0,
                   job.ldy, static_cast<int>(std::min<std::int64_t>(8, job.rowEnd - r0)));
    }
}

}  // namespace

bool hasTiles(DType type) {
    switch (type) {
        case DType::Q4_0:
        case DType::Q5_0:
        case DType::Q8_0:
        case DType::Q4_1:
        case DType::Q5_1:
        case DType::Q2_K:
        case DType::Q3_K:
        case DType::Q4_K:
        case DType::Q5_K:
        case DType::Q6_K:
            return true;
        default:
            return false;
    }
}

bool tileMatmulAvx2(DType type, const TileJob& job) {
    switch (type) {
        case DType::Q4_0:
            tilesLegacy<BlockQ4_0, BlockQ8_0, Legacy::Offset8>(job);
            return true;
        case DType::Q5_0:
            tilesLegacy<BlockQ5_0, BlockQ8_0, Legacy::Offset16>(job);
            return true;
        case DType::Q8_0:
            tilesLegacy<BlockQ8_0, BlockQ8_0, Legacy::Signed>(job);
            return true;
        case DType::Q4_1:
            tilesLegacy<BlockQ4_1, BlockQ8_1, Legacy::Min>(job);
            return true;
        case DType::Q5_1:
            tilesLegacy<BlockQ5_1, BlockQ8_1, Legacy::Min>(job);
            return true;
        case DType::Q2_K:
            tilesK<BlockQ2_K, Bias::Mins>(job);
            return true;
        case DType::Q3_K:
            tilesK<BlockQ3_K, Bias::Offsets>(job);
            return true;
        case DType::Q4_K:
            tilesK<BlockQ4_K, Bias::Mins>(job);
            return true;
        case DType::Q5_K:
            tilesK<BlockQ5_K, Bias::Mins>(job);
            return true;
        case DType::Q6_K:
            tilesK<BlockQ6_K, Bias::Offsets>(job);
            return true;
        default:
            return false;
    }
}

}  // namespace cwb::quant::detail
