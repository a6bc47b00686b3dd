// Exact compact storage of compressed matrices; see compact_matrix.h.
#include "core/llm/compact_matrix.h"

#include <algorithm>
#include <atomic>
#include <bit>
#include <cmath>
#include <cstring>
#include <functional>

#include "core/error.h"
#include "core/util/memory.h"
#include "core/util/parallel.h"

namespace cwb {

namespace {

// llama.cpp's block_q8_K: float d, int8 qs[256], int16 bsums[16] (sums of 16 codes).
constexpr std::int64_t kBlock = 256;
constexpr std::size_t kCodesAt = 4, kSumsAt = kCodesAt + kBlock, kBlockBytes = kSumsAt + 32;
// Output channels gathered at once from the (in, out) kernel: reads whole cache lines.
constexpr std::int64_t kGather = 16;

using RowSink = std::function<bool(std::int64_t row, const float* values, double& maxAbs)>;

// Calls sink(o, W'[o, :]) for every output channel o, on `threads` threads, until a sink
// returns false; returns false then. maxAbs collects max |W'|.
bool forEachRow(const Tensor& kernel, int threads, double& maxAbs, const RowSink& sink) {
    const std::int64_t in = kernel.shape()[0], out = kernel.shape()[1];
    const float* k = kernel.floats().data();
    std::atomic<bool> ok{true};
    std::vector<double> maxima(static_cast<std::size_t>(resolveThreads(threads)), 0.0);
    parallelFor((out + kGather - 1) / kGather, threads,
                [&](long long begin, long long end, int worker) {
                    std::vector<float> tile(static_cast<std::size_t>(kGather * in));
                    for (long long g = begin; g < end && ok.load(std::memory_order_relaxed); ++g) {
                        const std::int64_t o0 = g * kGather, rows = std::min(kGather, out - o0);
                        for (std::int64_t i = 0; i < in; ++i)
                            for (std::int64_t r = 0; r < rows; ++r)
                                tile[static_cast<std::size_t>(r * in + i)] = k[i * out + o0 + r];
                        for (std::int64_t r = 0; r < rows; ++r)
                            if (!sink(o0 + r, tile.data() + r * in,
                                      maxima[static_cast<std::size_t>(worker)]))
                                ok = false;
                    }
                });
    for (double m : maxima) maxAbs = std::max(maxAbs, m);
    return ok;
}

bool encodeQ8KRow(const float* values, std::int64_t n, float d, std::byte* dst, double& maxAbs) {
    for (std::int64_t b = 0; b < n / kBlock; ++b, dst += kBlockBytes) {
        std::int8_t codes[kBlock];
        std::int16_t sums[kBlock / 16] = {};
        for (std::int64_t e = 0; e < kBlock; ++e) {
            const float v = values[b * kBlock + e];
            const float q = d != 0.f ? std::nearbyint(v / d) : 0.f;
            if (!(std::fabs(q) <= 127.f) || d * q != v) return false;
            codes[e] = static_cast<std::int8_t>(q);
            sums[e / 16] = static_cast<std::int16_t>(sums[e / 16] + codes[e]);
            maxAbs = std::max(maxAbs, double(std::fabs(v)));
        }
        std::memcpy(dst, &d, 4);
        std::memcpy(dst + kCodesAt, codes, kBlock);
        std::memcpy(dst + kSumsAt, sums, sizeof sums);
    }
    return true;
}

std::shared_ptr<OwnedStorage> storageFor(DType type, std::int64_t out, std::int64_t in) {
    return std::make_shared<OwnedStorage>(
        dtypeStorageBytes(type, static_cast<std::uint64_t>(out * in)));
}

}  // namespace

CompactMatrix compactMatrix(const Tensor& kernel, const std::vector<float>& steps,
                            const std::string& name, std::uint64_t float32Reserve, int threads) {
    const std::int64_t in = kernel.shape()[0], out = kernel.shape()[1];
    const Shape shape{out, in};
    CompactMatrix result;

    const bool onGrid = steps.size() == 1 || steps.size() == static_cast<std::size_t>(out);
    if (onGrid && in % kBlock == 0) {
        auto storage = storageFor(DType::Q8_K, out, in);
        std::byte* data = storage->mutableData();
        const std::size_t rowBytes = static_cast<std::size_t>(in / kBlock) * kBlockBytes;
        double maxAbs = 0.0;
        const bool fits =
            forEachRow(kernel, threads, maxAbs, [&](std::int64_t o, const float* row, double& m) {
                const float d = steps[steps.size() == 1 ? 0 : static_cast<std::size_t>(o)];
                return encodeQ8KRow(row, in, d, data + o * rowBytes, m);
            });
        if (fits) return {Tensor(shape, DType::Q8_K, storage), maxAbs};
    }

    {
        auto storage = storageFor(DType::BF16, out, in);
        auto* data = reinterpret_cast<std::uint16_t*>(storage->mutableData());
        double maxAbs = 0.0;
        const bool exact =
            forEachRow(kernel, threads, maxAbs, [&](std::int64_t o, const float* row, double& m) {
                for (std::int64_t i = 0; i < in; ++i) {
                    const auto bits = std::bit_cast<std::uint32_t>(row[i]);
                    if (bits & 0xffffu) return false;
                    data[o * in + i] = static_cast<std::uint16_t>(bits >> 16);
                    m = std::max(m, double(std::fabs(row[i])));
                }
                return true;
            });
        if (exact) return {Tensor(shape, DType::BF16, storage), maxAbs};
    }

    // Pessimistic on purpose: when one matrix needs float32, the ones after it likely do too,
    // and finding that out at the edge of memory would take the machine there first.
    const std::uint64_t available = availableMemoryBytes();
    if (float32Reserve > available) {
        const auto mib = [](std::uint64_t b) { return std::to_string(b >> 20); };
        throw Error("compression: " + name +
                    "'s values are not on one step per row with 8-bit codes; in float32 it and "
                    "the block matrices after it need " +
                    mib(float32Reserve) + " MiB where " + mib(available) +
                    " MiB are available; choose a larger alpha (max |W| / alpha <= 127) or a "
                    "block format such as Q8_0");
    }
    auto storage = storageFor(DType::F32, out, in);
    auto* data = reinterpret_cast<float*>(storage->mutableData());
    double maxAbs = 0.0;
    forEachRow(kernel, threads, maxAbs, [&](std::int64_t o, const float* row, double& m) {
        for (std::int64_t i = 0; i < in; ++i) m = std::max(m, double(std::fabs(row[i])));
        std::memcpy(data + o * in, row, static_cast<std::size_t>(in) * sizeof(float));
        return true;
    });
    return {Tensor(shape, DType::F32, storage), maxAbs};
}

}  // namespace cwb
