// Batched products of packed weights with many tokens (prefill), AVX-512 VNNI: the AVX2
// tiles' scheme (tile_avx2.cpp) with 16 weight rows per tile, one row per int32 lane of a
// 512-bit register, and one _mm512_dpbusd_epi32 per step of 4 values (u8 codes x s8
// activations, four products added into each lane). Signed Q8_0 codes go in as code + 128;
// the K formats' sub-block scales multiply each 16 values' lane sums (mullo). Each lane
// repeats its row's reference arithmetic: the results equal the reference kernels bit for bit.
#include <algorithm>
#include <vector>

#include "core/quant/avx2_blocks.h"
#include "core/quant/kernels.h"
#include "core/quant/tile_common.h"
#include "core/quant/tile_kernels.h"

namespace cwb::quant::detail {
namespace {

using namespace avx2;
using namespace tiles;

constexpr int kTileRows = 16;

// One register's worth of a tile; alignas as in tile_avx2.cpp.
struct alignas(64) Reg {
    __m512i v;
};

struct Tile {
    std::vector<Reg> codes;       // [step][16 rows x 4 bytes]
    std::vector<Reg> scales;      // K: [super-block][16 sub-blocks] int32 per row
    std::vector<Reg> bias;        // K: [super-block][8 pairs of sub-blocks] int16 pairs per row
    std::vector<float> d, extra;  // [block][16]
};

Tile& threadTile() {
    thread_local Tile tile;
    return tile;
}

CWB_QUANT_AVX512 inline __m512i join(__m256i low, __m256i high) {
    return _mm512_inserti64x4(_mm512_castsi256_si512(low), high, 1);
}

CWB_QUANT_AVX512 inline __m512i broadcast4(const std::int8_t* p) {
    std::int32_t v;
    std::memcpy(&v, p, 4);
    return _mm512_set1_epi32(v);
}

// ---- 32-value formats

template <typename Block, Legacy kind>
CWB_QUANT_AVX512 void decodeLegacy(const Block* const* rows, std::int64_t blocks, Tile& tile) {
    tile.codes.resize(static_cast<std::size_t>(blocks) * 8);
    tile.d.resize(static_cast<std::size_t>(blocks) * kTileRows);
    tile.extra.resize(static_cast<std::size_t>(blocks) * kTileRows);
    __m256i low[8], high[8];
    for (std::int64_t b = 0; b < blocks; ++b) {
        for (int k = 0; k < 8; ++k) {
            low[k] = codes(rows[k][b]);
            high[k] = codes(rows[k + 8][b]);
            if constexpr (kind == Legacy::Signed) {  // code + 128, unsigned
                low[k] = _mm256_xor_si256(low[k], _mm256_set1_epi8(static_cast<char>(0x80)));
                high[k] = _mm256_xor_si256(high[k], _mm256_set1_epi8(static_cast<char>(0x80)));
            }
        }
        for (int k = 0; k < kTileRows; ++k) {
            tile.d[b * kTileRows + k] = h2f(rows[k][b].d);
            if constexpr (kind == Legacy::Min) tile.extra[b * kTileRows + k] = h2f(rows[k][b].m);
        }
        transpose8(low);
        transpose8(high);
        for (int s = 0; s < 8; ++s) tile.codes[b * 8 + s].v = join(low[s], high[s]);
    }
}

template <typename ActBlock, Legacy kind>
CWB_QUANT_AVX512 void runLegacy(const Tile& tile, std::int64_t blocks, const std::byte* act,
                                std::size_t actStride, std::int64_t tokens,
                                const std::int32_t* blockSums, float* y, std::int64_t ldy,
                                int validRows) {
    constexpr int offset = kind == Legacy::Offset8    ? 8
                           : kind == Legacy::Offset16 ? 16
                           : kind == Legacy::Signed   ? 128
                                                      : 0;
    alignas(64) float out[kTileRows];
    for (std::int64_t t = 0; t < tokens; ++t) {
        const auto* a = reinterpret_cast<const ActBlock*>(act + t * actStride);
        __m512 acc = _mm512_setzero_ps();
        for (std::int64_t b = 0; b < blocks; ++b) {
            const Reg* w = tile.codes.data() + b * 8;
            __m512i sum = _mm512_setzero_si512();
            for (int s = 0; s < 8; ++s)
                sum = _mm512_dpbusd_epi32(sum, w[s].v, broadcast4(a[b].qs + 4 * s));
            if constexpr (offset != 0)
                sum = _mm512_sub_epi32(sum, _mm512_set1_epi32(offset * blockSums[t * blocks + b]));
            __m512 term =
                _mm512_mul_ps(_mm512_mul_ps(_mm512_loadu_ps(tile.d.data() + kTileRows * b),
                                            _mm512_set1_ps(h2f(a[b].d))),
                              _mm512_cvtepi32_ps(sum));
            if constexpr (kind == Legacy::Min)
                term = _mm512_add_ps(
                    term, _mm512_mul_ps(_mm512_loadu_ps(tile.extra.data() + kTileRows * b),
                                        _mm512_set1_ps(h2f(a[b].s))));
            acc = _mm512_add_ps(acc, term);
        }
        _mm512_store_ps(out, acc);
        std::copy(out, out + validRows, y + t * ldy);
    }
}

// ---- K formats

template <typename Block>
CWB_QUANT_AVX512 void decodeK(const Block* const* rows, std::int64_t superBlocks, Tile& tile) {
    tile.codes.resize(static_cast<std::size_t>(superBlocks) * 64);
    tile.scales.resize(static_cast<std::size_t>(superBlocks) * 16);
    tile.bias.resize(static_cast<std::size_t>(superBlocks) * 8);
    tile.d.resize(static_cast<std::size_t>(superBlocks) * kTileRows);
    tile.extra.resize(static_cast<std::size_t>(superBlocks) * kTileRows);
    __m256i groups[8][kTileRows];  // [group][row]
    __m256i u[8];
    SubScales s[kTileRows];
    for (std::int64_t i = 0; i < superBlocks; ++i) {
        for (int k = 0; k < kTileRows; ++k) {
            const Block& blk = rows[k][i];
            codes(blk, u);
            for (int g = 0; g < 8; ++g) groups[g][k] = u[g];
            subScales(blk, s[k]);
            tile.d[i * kTileRows + k] = h2f(blk.d);
            tile.extra[i * kTileRows + k] = minScale(blk);
        }
        for (int g = 0; g < 8; ++g) {
            transpose8(groups[g]);
            transpose8(groups[g] + 8);
            for (int st = 0; st < 8; ++st)
                tile.codes[i * 64 + 8 * g + st].v = join(groups[g][st], groups[g][8 + st]);
        }
        alignas(64) std::int32_t perRow[kTileRows];
        alignas(64) std::int16_t pairs[2 * kTileRows];
        for (int j = 0; j < 16; ++j) {
            for (int k = 0; k < kTileRows; ++k) perRow[k] = s[k].scale[j];
            tile.scales[i * 16 + j].v = _mm512_load_si512(perRow);
        }
        for (int p = 0; p < 8; ++p) {
            for (int k = 0; k < kTileRows; ++k) {
                pairs[2 * k] = static_cast<std::int16_t>(s[k].coef[2 * p]);
                pairs[2 * k + 1] = static_cast<std::int16_t>(s[k].coef[2 * p + 1]);
            }
            tile.bias[i * 8 + p].v = _mm512_load_si512(pairs);
        }
    }
}

template <Bias kind>
CWB_QUANT_AVX512 void runK(const Tile& tile, std::int64_t superBlocks, const std::byte* act,
                           std::size_t actStride, std::int64_t tokens, float* y, std::int64_t ldy,
                           int validRows) {
    alignas(64) float out[kTileRows];
    for (std::int64_t t = 0; t < tokens; ++t) {
        const auto* a = reinterpret_cast<const BlockQ8_K*>(act + t * actStride);
        __m512 acc = _mm512_setzero_ps();
        for (std::int64_t i = 0; i < superBlocks; ++i) {
            const Reg* w = tile.codes.data() + i * 64;
            const Reg* sc = tile.scales.data() + i * 16;
            __m512i sum = _mm512_setzero_si512();
            for (int j = 0; j < 16; ++j) {
                __m512i part = _mm512_setzero_si512();
                for (int st = 4 * j; st < 4 * j + 4; ++st)
                    part = _mm512_dpbusd_epi32(part, w[st].v, broadcast4(a[i].qs + 4 * st));
                sum = _mm512_add_epi32(sum, _mm512_mullo_epi32(part, sc[j].v));
            }
            const auto* bsums =
                reinterpret_cast<const std::byte*>(&a[i]) + offsetof(BlockQ8_K, bsums);
            __m512i bias = _mm512_setzero_si512();
            for (int p = 0; p < 8; ++p) {
                std::int32_t pair;
                std::memcpy(&pair, bsums + 4 * p, 4);
                bias = _mm512_add_epi32(
                    bias, _mm512_madd_epi16(tile.bias[i * 8 + p].v, _mm512_set1_epi32(pair)));
            }
            const __m512 ad = _mm512_set1_ps(a[i].d);
            const __m512 d = _mm512_loadu_ps(tile.d.data() + kTileRows * i);
            if constexpr (kind == Bias::Mins) {
                const __m512 t1 = _mm512_mul_ps(_mm512_mul_ps(ad, d), _mm512_cvtepi32_ps(sum));
                const __m512 t2 = _mm512_mul_ps(
                    _mm512_mul_ps(ad, _mm512_loadu_ps(tile.extra.data() + kTileRows * i)),
                    _mm512_cvtepi32_ps(bias));
                acc = _mm512_add_ps(acc, _mm512_sub_ps(t1, t2));
            } else {
                const __m512 scaled = _mm512_cvtepi32_ps(_mm512_sub_epi32(sum, bias));
                acc = _mm512_add_ps(acc, _mm512_mul_ps(_mm512_mul_ps(d, ad), scaled));
            }
        }
        _mm512_store_ps(out, acc);
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
        runLegacy<ActBlock, kind>(
            tile, blocks, job.activations, job.activationStride, job.tokens, job.blockSums,
            job.y + r0, job.ldy,
            static_cast<int>(std::min<std::int64_t>(kTileRows, job.rowEnd - r0)));
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
                   job.ldy, static_cast<int>(std::min<std::int64_t>(kTileRows, job.rowEnd - r0)));
    }
}

}  // namespace

bool tileMatmulAvx512(DType type, const TileJob& job) {
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
