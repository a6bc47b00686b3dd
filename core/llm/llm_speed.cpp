// Prefill and generation speed; see llm_speed.h.
#include "core/llm/llm_speed.h"

#include <algorithm>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "core/backend/backend.h"
#include "core/error.h"
#include "core/llm/llama_forward.h"
#include "core/util/worker_pool.h"

namespace cwb {

namespace {

using Clock = std::chrono::steady_clock;

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v.empty() ? 0.0 : v[v.size() / 2];
}

// The same fixed, spread-out ids on every run (llama-bench uses random ones): the speed of a
// dense model does not depend on which tokens it sees.
std::vector<std::int32_t> benchTokens(int count, int vocab) {
    std::vector<std::int32_t> ids(static_cast<std::size_t>(count));
    std::uint32_t state = 12345;
    for (auto& id : ids) {
        state = state * 1664525u + 1013904223u;
        id = static_cast<std::int32_t>((state >> 8) % static_cast<std::uint32_t>(vocab));
    }
    return ids;
}

}  // namespace

double measureReadBandwidth(int threads, std::size_t bytes) {
    const std::size_t floats = std::max<std::size_t>(bytes / 64, 1) * 16;
    std::vector<float> buffer(floats, 1.f);
    WorkerPool& pool = WorkerPool::shared(threads);
    std::vector<float> sums(static_cast<std::size_t>(pool.threads()) * 16);
    double best = 0.0;
    for (int pass = 0; pass < 4; ++pass) {  // the first pass also faults the pages in
        const auto start = Clock::now();
        pool.run(static_cast<long long>(floats / 16), [&](long long begin, long long end, int w) {
            float acc[16] = {};
            for (long long line = begin; line < end; ++line)
                for (int l = 0; l < 16; ++l)
                    acc[l] += buffer[static_cast<std::size_t>(line * 16 + l)];
            std::copy(acc, acc + 16, sums.begin() + w * 16);
        });
        const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
        if (pass > 0) best = std::max(best, static_cast<double>(floats) * 4 / seconds);
    }
    if (sums[0] < 0.f) best = 0.0;  // keeps the sums observable
    return best;
}

std::int64_t weightBytesPerToken(const LlamaConfig& config, const LlamaWeights& w) {
    std::int64_t bytes = static_cast<std::int64_t>(w.finalNorm.byteSize() + w.output.byteSize());
    bytes += static_cast<std::int64_t>(w.embedding.byteSize()) / config.vocabSize;
    for (const auto& b : w.blocks)
        for (const Tensor* t :
             {&b.attnNorm, &b.q, &b.k, &b.v, &b.o, &b.ffnNorm, &b.gate, &b.up, &b.down})
            bytes += static_cast<std::int64_t>(t->byteSize());
    return bytes;
}

SpeedResult measureSpeed(const LlamaConfig& config, const LlamaWeights& weights,
                         const SpeedOptions& options) {
    const int p = std::max(0, options.promptTokens), n = std::max(0, options.generateTokens);
    const int context = std::max({p, n, 1});
    if (config.maxSequence > 0 && context > config.maxSequence)
        throw Error("speed: " + std::to_string(context) + " tokens exceed the model's context of " +
                    std::to_string(config.maxSequence));
    const std::unique_ptr<LlamaRunner> runner = makeLlamaRunner(
        options.backend, config, weights, {options.threads, context, options.cancel});
    LlamaRunner& model = *runner;
    SpeedResult result;
    result.threads = WorkerPool::shared(options.threads).threads();
    result.device = model.device();
    result.weightBytesPerToken = weightBytesPerToken(config, weights);
    const auto ids = benchTokens(context, config.vocabSize);
    std::vector<float> logits;
    std::vector<double> prefill, generate;
    // One warm-up round (pages of a mapped file, caches), then the timed ones.
    for (int rep = 0; rep <= std::max(1, options.repetitions); ++rep) {
        if (p > 0) {
            model.reset();
            const auto start = Clock::now();
            model.forwardLast(std::span(ids).first(static_cast<std::size_t>(p)), logits);
            const double s = std::chrono::duration<double>(Clock::now() - start).count();
            if (rep > 0) prefill.push_back(p / s);
        }
        if (n > 0) {
            model.reset();
            const auto start = Clock::now();
            for (int i = 0; i < n; ++i)
                model.forwardLast(std::span(ids).subspan(static_cast<std::size_t>(i), 1), logits);
            const double s = std::chrono::duration<double>(Clock::now() - start).count();
            if (rep > 0) generate.push_back(n / s);
        }
    }
    result.prefillTokensPerSecond = median(prefill);
    result.generateTokensPerSecond = median(generate);
    if (options.measureBandwidth) {
        result.readBandwidth = model.readBandwidth();
        if (result.readBandwidth > 0)
            result.bandwidthFraction = static_cast<double>(result.weightBytesPerToken) *
                                       result.generateTokensPerSecond / result.readBandwidth;
    }
    return result;
}

}  // namespace cwb
