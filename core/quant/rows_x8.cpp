// Block rows interleaved by eight for generation's kernels (see interleaveRows in
// quant_rows.h and RowsX8 in gemv_kernels.h): the layout of each format, and the copies to
// and from plain rows. The layout holds the same bytes as the plain rows, moved.
#include <algorithm>
#include <cstring>

#include "core/error.h"
#include "core/quant/avx2_blocks.h"
#include "core/quant/block_formats.h"
#include "core/quant/block_layouts.h"
#include "core/quant/gemv_kernels.h"
#include "core/quant/quant_rows.h"
#include "core/quant/tile_common.h"

namespace cwb::quant {

namespace detail {

RowsX8 rowsX8(DType type) {
    switch (type) {
        case DType::Q4_0:
            return {sizeof(BlockQ4_0), 1};
        case DType::Q4_K:
            return {sizeof(BlockQ4_K), 2};
        default:
            return {};
    }
}

CWB_QUANT_AVX2 void plainGroupsX8Avx2(RowsX8 l, const std::byte* w, std::int64_t groups,
                                      std::int64_t blocks, std::byte* out) {
    const std::size_t rowBytes = static_cast<std::size_t>(blocks) * l.blockBytes;
    const std::size_t head = 2 * static_cast<std::size_t>(l.halves);
    const std::size_t words = (l.blockBytes - head) / 4;
    const auto* g = reinterpret_cast<const std::uint8_t*>(w);
    for (std::int64_t group = 0; group < groups; ++group, out += 8 * rowBytes)
        for (std::int64_t i = 0; i < blocks; ++i, g += 8 * l.blockBytes) {
            std::byte* b = out + static_cast<std::size_t>(i) * l.blockBytes;
            const std::uint8_t* runs = g + 8 * head;
            for (int k = 0; k < 8; ++k)
                for (std::size_t h = 0; h < head; h += 2)
                    std::memcpy(b + k * rowBytes + h, g + 8 * h + 2 * k, 2);
            std::size_t j = 0;
            // Eight runs hold eight dwords of every row: a transpose gives row k's in register k.
            for (; j + 8 <= words; j += 8) {
                __m256i r[8];
                for (int m = 0; m < 8; ++m) r[m] = avx2::load32(runs + 32 * (j + m));
                tiles::transpose8(r);
                for (int k = 0; k < 8; ++k)
                    _mm256_storeu_si256(reinterpret_cast<__m256i*>(b + k * rowBytes + head + 4 * j),
                                        r[k]);
            }
            // Four runs: rows k and k + 4 in the halves of register k.
            for (; j + 4 <= words; j += 4) {
                const std::uint8_t* q = runs + 32 * j;
                const __m256i r0 = avx2::load32(q), r1 = avx2::load32(q + 32),
                              r2 = avx2::load32(q + 64), r3 = avx2::load32(q + 96);
                const __m256i t0 = _mm256_unpacklo_epi32(r0, r1),
                              t1 = _mm256_unpackhi_epi32(r0, r1);
                const __m256i t2 = _mm256_unpacklo_epi32(r2, r3),
                              t3 = _mm256_unpackhi_epi32(r2, r3);
                const __m256i rows[4] = {
                    _mm256_unpacklo_epi64(t0, t2), _mm256_unpackhi_epi64(t0, t2),
                    _mm256_unpacklo_epi64(t1, t3), _mm256_unpackhi_epi64(t1, t3)};
                for (int k = 0; k < 4; ++k) {
                    _mm_storeu_si128(reinterpret_cast<__m128i*>(b + k * rowBytes + head + 4 * j),
                                     _mm256_castsi256_si128(rows[k]));
                    _mm_storeu_si128(
                        reinterpret_cast<__m128i*>(b + (k + 4) * rowBytes + head + 4 * j),
                        _mm256_extracti128_si256(rows[k], 1));
                }
            }
            for (; j < words; ++j)
                for (int k = 0; k < 8; ++k)
                    std::memcpy(b + k * rowBytes + head + 4 * j, runs + 32 * j + 4 * k, 4);
        }
}

}  // namespace detail

namespace {

detail::RowsX8 layoutOf(DType type) {
    const detail::RowsX8 l = detail::rowsX8(type);
    if (!l.blockBytes)
        throw Error("rows of " + dtypeName(type) +
                    " cannot be interleaved; only Q4_0 and Q4_K matrices can");
    return l;
}

// Each field of row k's block against where the group's block holds it: copy(offset in the
// row's block, offset in the group's block, bytes).
template <typename Copy>
void eachField(detail::RowsX8 l, int k, Copy copy) {
    const std::size_t head = 2 * static_cast<std::size_t>(l.halves);
    for (std::size_t h = 0; h < head; h += 2) copy(h, 8 * h + 2 * k, 2);
    for (std::size_t j = 0; 4 * j + head < l.blockBytes; ++j)
        copy(head + 4 * j, 8 * head + 32 * j + 4 * k, 4);
}

}  // namespace

void interleaveRows(DType type, const std::byte* rows, std::int64_t rowCount, std::int64_t cols,
                    std::byte* out) {
    const detail::RowsX8 l = layoutOf(type);
    const std::size_t bytes = rowBytes(type, cols);
    const std::int64_t blocks = cols / static_cast<std::int64_t>(dtypeBlockSize(type));
    const std::int64_t whole = rowCount / 8 * 8;
    for (std::int64_t r = 0; r < whole; ++r)
        for (std::int64_t i = 0; i < blocks; ++i) {
            const std::byte* plain = rows + static_cast<std::size_t>(r) * bytes +
                                     static_cast<std::size_t>(i) * l.blockBytes;
            std::byte* group = out + static_cast<std::size_t>(r / 8 * 8) * bytes +
                               static_cast<std::size_t>(i) * 8 * l.blockBytes;
            eachField(l, static_cast<int>(r % 8), [&](std::size_t p, std::size_t g, std::size_t n) {
                std::memcpy(group + g, plain + p, n);
            });
        }
    const auto tail = static_cast<std::size_t>(rowCount - whole) * bytes;
    if (tail) std::memcpy(out + whole * bytes, rows + whole * bytes, tail);
}

void plainRows(DType type, const std::byte* interleaved, std::int64_t rowCount, std::int64_t cols,
               std::int64_t begin, std::int64_t end, std::byte* out) {
    const detail::RowsX8 l = layoutOf(type);
    const std::size_t bytes = rowBytes(type, cols);
    const std::int64_t blocks = cols / static_cast<std::int64_t>(dtypeBlockSize(type));
    const std::int64_t whole = rowCount / 8 * 8;
    if (activeIsa() != Isa::Scalar && begin % 8 == 0 && std::min(end, whole) - begin >= 8) {
        const std::int64_t groups = (std::min(end, whole) - begin) / 8;
        detail::plainGroupsX8Avx2(l, interleaved + static_cast<std::size_t>(begin) * bytes, groups,
                                  blocks, out);
        out += static_cast<std::size_t>(8 * groups) * bytes;
        begin += 8 * groups;
    }
    for (std::int64_t r = begin; r < end; ++r, out += bytes) {
        if (r >= whole) {
            std::memcpy(out, interleaved + static_cast<std::size_t>(r) * bytes, bytes);
            continue;
        }
        for (std::int64_t i = 0; i < blocks; ++i) {
            std::byte* plain = out + static_cast<std::size_t>(i) * l.blockBytes;
            const std::byte* group = interleaved + static_cast<std::size_t>(r / 8 * 8) * bytes +
                                     static_cast<std::size_t>(i) * 8 * l.blockBytes;
            eachField(l, static_cast<int>(r % 8), [&](std::size_t p, std::size_t g, std::size_t n) {
                std::memcpy(plain + p, group + g, n);
            });
        }
    }
}

bool hasInterleavedRows(DType type) {
    return activeIsa() != Isa::Scalar && detail::rowsX8(type).blockBytes != 0;
}

}  // namespace cwb::quant
