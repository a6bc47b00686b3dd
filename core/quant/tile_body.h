// The batched (prefill) tile kernels, written once for every ISA (internal to core/quant). A
// tile of V::kRows weight rows is decoded once into unsigned byte codes and transposed so that
// each int32 lane of a register belongs to one row; one step multiplies 4 values of every row
// with the same 4 activation bytes, broadcast. The tile stays in cache while every token
// passes over it.
//
// Each lane repeats its row's reference dot product exactly: the same integer sums per block
// (offsets and minimums through the activations' block sums), then the same float products
// and additions in the same order, so the results equal the reference kernels bit for bit.
//
// An ISA's file (tile_avx2.cpp, tile_avx512.cpp) defines its traits struct, then includes
// this file once with CWB_TILE_TARGET (its target attribute), CWB_TILE_ISA (the traits) and
// CWB_TILE_ENTRY (the name of its entry point, declared in tile_kernels.h) defined: every
// kernel here is compiled for that ISA only, so the generic body inlines the traits'
// intrinsics and never runs on a CPU without them. The traits V give:
//   kRows                    rows per tile (one per int32 lane)
//   I, F, Reg                integer and float vectors; Reg: I in an aligned struct
//   zeroI, addI, subI, set1I, zeroF, addF, subF, mulF, set1F, loadF, storeF, toFloat
//   broadcast4(p)            4 activation bytes in every lane
//   madd16(x, y)             int16 pairs multiplied and added into int32 lanes
//   legacyCodes<kind>(b)     a 32-value block's codes as the steps expect them
//   kSignedOffset            what Signed codes carry (0: signed products, 128: code + 128)
//   legacyStep<kind>(s, w, a)  s + the 4-product sums of codes w and activations a
//   scaledGroup(s, w, qs, sc)  s + sc x (4 steps of 16 values against activations qs)
//   scaleReg(perRow)         the K formats' sub-block scales of every row, for scaledGroup
//   storeSteps(rows, out)    8 registers of 8 rows' codes (each 32 bytes, twice for 16 rows)
//                            transposed into 8 step registers
#include <algorithm>
#include <cstddef>
#include <cstring>
#include <vector>

#include "core/quant/avx2_blocks.h"
#include "core/quant/tile_common.h"
#include "core/quant/tile_kernels.h"

#if !defined(CWB_TILE_TARGET) || !defined(CWB_TILE_ISA) || !defined(CWB_TILE_ENTRY)
#error "define CWB_TILE_TARGET, CWB_TILE_ISA and CWB_TILE_ENTRY before including tile_body.h"
#endif

namespace cwb::quant::detail {
namespace {

using namespace avx2;
using namespace tiles;
using V = CWB_TILE_ISA;

// The decoded tile, reused by one thread from tile to tile.
struct Tile {
    std::vector<V::Reg> codes;    // [block or super-block step][rows x 4 bytes]
    std::vector<V::Reg> scales;   // K: [super-block][16 sub-blocks], scaleReg
    std::vector<V::Reg> bias;     // K: [super-block][8 pairs of sub-blocks] int16 pairs per row
    std::vector<float> d, extra;  // [block][rows]: d and m (legacy), d and dmin (K)
};

Tile& threadTile() {
    thread_local Tile tile;
    return tile;
}

// ---- 32-value formats

template <typename Block, Legacy kind>
CWB_TILE_TARGET void decodeLegacy(const Block* const* rows, std::int64_t blocks, Tile& tile) {
    constexpr int R = V::kRows;
    tile.codes.resize(static_cast<std::size_t>(blocks) * 8);
    tile.d.resize(static_cast<std::size_t>(blocks) * R);
    tile.extra.resize(static_cast<std::size_t>(blocks) * R);
    __m256i r[R];
    for (std::int64_t b = 0; b < blocks; ++b) {
        for (int k = 0; k < R; ++k) {
            const Block& blk = rows[k][b];
            r[k] = V::template legacyCodes<kind>(blk);
            tile.d[b * R + k] = h2f(blk.d);
            if constexpr (kind == Legacy::Min) tile.extra[b * R + k] = h2f(blk.m);
        }
        V::storeSteps(r, tile.codes.data() + b * 8);
    }
}

template <typename ActBlock, Legacy kind>
CWB_TILE_TARGET void runLegacy(const Tile& tile, std::int64_t blocks, const std::byte* act,
                               std::size_t actStride, std::int64_t tokens,
                               const std::int32_t* blockSums, float* y, std::int64_t ldy,
                               int validRows) {
    constexpr int R = V::kRows;
    constexpr int offset = kind == Legacy::Offset8    ? 8
                           : kind == Legacy::Offset16 ? 16
                           : kind == Legacy::Signed   ? V::kSignedOffset
                                                      : 0;
    alignas(64) float out[R];
    for (std::int64_t t = 0; t < tokens; ++t) {
        const auto* a = reinterpret_cast<const ActBlock*>(act + t * actStride);
        typename V::F acc = V::zeroF();
        for (std::int64_t b = 0; b < blocks; ++b) {
            const V::Reg* w = tile.codes.data() + b * 8;
            typename V::I sum = V::zeroI();
            for (int s = 0; s < 8; ++s)
                sum = V::template legacyStep<kind>(sum, w[s].v, V::broadcast4(a[b].qs + 4 * s));
            if constexpr (offset != 0)
                sum = V::subI(sum, V::set1I(offset * blockSums[t * blocks + b]));
            typename V::F term = V::mulF(
                V::mulF(V::loadF(tile.d.data() + R * b), V::set1F(h2f(a[b].d))), V::toFloat(sum));
            if constexpr (kind == Legacy::Min)
                term = V::addF(term,
                               V::mulF(V::loadF(tile.extra.data() + R * b), V::set1F(h2f(a[b].s))));
            acc = V::addF(acc, term);
        }
        V::storeF(out, acc);
        std::copy(out, out + validRows, y + t * ldy);
    }
}

// ---- K formats

template <typename Block>
CWB_TILE_TARGET void decodeK(const Block* const* rows, std::int64_t superBlocks, Tile& tile) {
    constexpr int R = V::kRows;
    tile.codes.resize(static_cast<std::size_t>(superBlocks) * 64);
    tile.scales.resize(static_cast<std::size_t>(superBlocks) * 16);
    tile.bias.resize(static_cast<std::size_t>(superBlocks) * 8);
    tile.d.resize(static_cast<std::size_t>(superBlocks) * R);
    tile.extra.resize(static_cast<std::size_t>(superBlocks) * R);
    __m256i groups[8][R];  // [group][row]
    __m256i u[8];
    SubScales s[R];
    for (std::int64_t i = 0; i < superBlocks; ++i) {
        for (int k = 0; k < R; ++k) {
            const Block& blk = rows[k][i];
            codes(blk, u);
            for (int g = 0; g < 8; ++g) groups[g][k] = u[g];
            subScales(blk, s[k]);
            tile.d[i * R + k] = h2f(blk.d);
            tile.extra[i * R + k] = minScale(blk);
        }
        for (int g = 0; g < 8; ++g) V::storeSteps(groups[g], tile.codes.data() + i * 64 + 8 * g);
        int perRow[R];
        for (int j = 0; j < 16; ++j) {
            for (int k = 0; k < R; ++k) perRow[k] = s[k].scale[j];
            tile.scales[i * 16 + j].v = V::scaleReg(perRow);
        }
        alignas(64) std::int16_t pairs[2 * R];
        for (int p = 0; p < 8; ++p) {
            for (int k = 0; k < R; ++k) {
                pairs[2 * k] = static_cast<std::int16_t>(s[k].coef[2 * p]);
                pairs[2 * k + 1] = static_cast<std::int16_t>(s[k].coef[2 * p + 1]);
            }
            std::memcpy(&tile.bias[i * 8 + p].v, pairs, sizeof pairs);
        }
    }
}

template <Bias kind>
CWB_TILE_TARGET void runK(const Tile& tile, std::int64_t superBlocks, const std::byte* act,
                          std::size_t actStride, std::int64_t tokens, float* y, std::int64_t ldy,
                          int validRows) {
    constexpr int R = V::kRows;
    alignas(64) float out[R];
    for (std::int64_t t = 0; t < tokens; ++t) {
        const auto* a = reinterpret_cast<const BlockQ8_K*>(act + t * actStride);
        typename V::F acc = V::zeroF();
        for (std::int64_t i = 0; i < superBlocks; ++i) {
            const V::Reg* w = tile.codes.data() + i * 64;
            const V::Reg* sc = tile.scales.data() + i * 16;
            typename V::I sum = V::zeroI();
            for (int j = 0; j < 16; ++j)
                sum = V::scaledGroup(sum, w + 4 * j, a[i].qs + 16 * j, sc[j].v);
            const auto* bsums =
                reinterpret_cast<const std::byte*>(&a[i]) + offsetof(BlockQ8_K, bsums);
            typename V::I bias = V::zeroI();
            for (int p = 0; p < 8; ++p) {
                std::int32_t pair;
                std::memcpy(&pair, bsums + 4 * p, 4);
                bias = V::addI(bias, V::madd16(tile.bias[i * 8 + p].v, V::set1I(pair)));
            }
            const typename V::F ad = V::set1F(a[i].d);
            const typename V::F d = V::loadF(tile.d.data() + R * i);
            if constexpr (kind == Bias::Mins) {
                const typename V::F t1 = V::mulF(V::mulF(ad, d), V::toFloat(sum));
                const typename V::F t2 =
                    V::mulF(V::mulF(ad, V::loadF(tile.extra.data() + R * i)), V::toFloat(bias));
                acc = V::addF(acc, V::subF(t1, t2));
            } else {
                const typename V::F scaled = V::toFloat(V::subI(sum, bias));
                acc = V::addF(acc, V::mulF(V::mulF(d, ad), scaled));
            }
        }
        V::storeF(out, acc);
        std::copy(out, out + validRows, y + t * ldy);
    }
}

// ---- tiles of a worker's rows

int validRows(const TileJob& job, std::int64_t r0) {
    return static_cast<int>(std::min<std::int64_t>(V::kRows, job.rowEnd - r0));
}

template <typename Block, typename ActBlock, Legacy kind>
void tilesLegacy(const TileJob& job) {
    const std::int64_t blocks = job.cols / kQK;
    Tile& tile = threadTile();
    const Block* rows[V::kRows];
    for (std::int64_t r0 = job.rowBegin; r0 < job.rowEnd; r0 += V::kRows) {
        rowPointers(job.weights, job.stride, r0, job.rowEnd, rows, V::kRows);
        decodeLegacy<Block, kind>(rows, blocks, tile);
        runLegacy<ActBlock, kind>(tile, blocks, job.activations, job.activationStride, job.tokens,
                                  job.blockSums, job.y + r0, job.ldy, validRows(job, r0));
    }
}

template <typename Block, Bias kind>
void tilesK(const TileJob& job) {
    const std::int64_t superBlocks = job.cols / kQKK;
    Tile& tile = threadTile();
    const Block* rows[V::kRows];
    for (std::int64_t r0 = job.rowBegin; r0 < job.rowEnd; r0 += V::kRows) {
        rowPointers(job.weights, job.stride, r0, job.rowEnd, rows, V::kRows);
        decodeK<Block>(rows, superBlocks, tile);
        runK<kind>(tile, superBlocks, job.activations, job.activationStride, job.tokens, job.y + r0,
                   job.ldy, validRows(job, r0));
    }
}

}  // namespace

// The job's rows for every token; false for a type without tiles (hasTiles).
bool CWB_TILE_ENTRY(DType type, const TileJob& job) {
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

#undef CWB_TILE_TARGET
#undef CWB_TILE_ISA
#undef CWB_TILE_ENTRY
