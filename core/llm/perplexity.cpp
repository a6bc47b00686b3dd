// llama-perplexity's protocol on the Llama forward pass; see perplexity.h.
#include "core/llm/perplexity.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "core/backend/backend.h"
#include "core/error.h"
#include "core/llm/llama_forward.h"
#include "core/util/memory.h"
#include "core/util/worker_pool.h"

namespace cwb {

namespace {

// log-softmax of a row of logits, in float32 (as a recorded reference keeps it); the
// exponentials in float as llama.cpp takes them, summed in double.
void logSoftmax(const float* logits, int n, float* out) {
    const float max = *std::max_element(logits, logits + n);
    double sum = 0.0;
    for (int i = 0; i < n; ++i) sum += std::exp(logits[i] - max);
    const double logSum = std::log(sum);
    for (int i = 0; i < n; ++i) out[i] = static_cast<float>(logits[i] - max - logSum);
}

// KL(p || q) = sum p (log p - log q) over one row of log-probabilities.
double klDivergence(const float* logP, const float* logQ, int n) {
    double kl = 0.0;
    for (int i = 0; i < n; ++i) kl += std::exp(logP[i]) * (static_cast<double>(logP[i]) - logQ[i]);
    return kl;
}

int argmax(const float* values, int n) {
    return static_cast<int>(std::max_element(values, values + n) - values);
}

// The standard error of a mean from sums of x and x^2 over n samples, as llama.cpp gives it.
double meanError(double sum, double sumSquares, long long n) {
    if (n < 2) return 0.0;
    const double mean = sum / n;
    const double variance = sumSquares / n - mean * mean;
    return variance > 0.0 ? std::sqrt(variance / (n - 1)) : 0.0;
}

struct Totals {
    double nll = 0, nll2 = 0, kl = 0, kl2 = 0;
    long long sameTop = 0, scored = 0;
};

PerplexityStats statsOf(const Totals& t, int chunks, int totalChunks, bool hasKl) {
    PerplexityStats s;
    s.chunks = chunks;
    s.totalChunks = totalChunks;
    s.scored = t.scored;
    if (t.scored == 0) return s;
    const double n = static_cast<double>(t.scored);
    s.meanNll = t.nll / n;
    s.perplexity = std::exp(s.meanNll);
    const double error = meanError(t.nll, t.nll2, t.scored);
    s.perplexityError = s.perplexity * error;
    s.low = std::exp(s.meanNll - 1.96 * error);
    s.high = std::exp(s.meanNll + 1.96 * error);
    s.hasKl = hasKl;
    if (hasKl) {
        s.meanKl = t.kl / n;
        s.klError = meanError(t.kl, t.kl2, t.scored);
        s.sameTop = static_cast<double>(t.sameTop) / n;
        s.sameTopError = t.scored > 1 ? std::sqrt(s.sameTop * (1.0 - s.sameTop) / (n - 1)) : 0.0;
    }
    return s;
}

// FNV-1a over the token ids.
std::uint64_t hashTokens(std::span<const std::int32_t> tokens) {
    std::uint64_t h = 1469598103934665603ull;
    for (const std::int32_t t : tokens) {
        h ^= static_cast<std::uint32_t>(t);
        h *= 1099511628211ull;
    }
    return h;
}

}  // namespace

PerplexityResult measurePerplexity(const LlamaConfig& config, const LlamaWeights& weights,
                                   std::span<const std::int32_t> tokens,
                                   const PerplexityOptions& options) {
    const auto start = std::chrono::steady_clock::now();
    const int context = options.context;
    if (context < 4 || context % 2 != 0)
        throw Error("perplexity: the context must be an even number of at least 4 tokens, not " +
                    std::to_string(context));
    if (options.bos < 0 || options.bos >= config.vocabSize)
        throw Error("perplexity: BOS id " + std::to_string(options.bos) +
                    " is outside the vocabulary");
    const long long whole = static_cast<long long>(tokens.size()) / context;
    if (whole == 0)
        throw Error("perplexity: the text gives " + std::to_string(tokens.size()) +
                    " tokens, fewer than one chunk of " + std::to_string(context) +
                    "; use a longer text or a smaller context");
    const int chunks = static_cast<int>(
        options.maxChunks > 0 ? std::min<long long>(whole, options.maxChunks) : whole);
    const int first = context / 2, scoredPerChunk = context - 1 - first;
    const int vocab = config.vocabSize;
    const std::size_t rowFloats = static_cast<std::size_t>(vocab);
    const std::size_t chunkFloats = static_cast<std::size_t>(scoredPerChunk) * rowFloats;
    const std::uint64_t hash = hashTokens(tokens.first(static_cast<std::size_t>(chunks) * context));

    const PerplexityReference* recorded = options.recorded;
    if (recorded &&
        (recorded->context != context || recorded->chunks != chunks || recorded->vocab != vocab ||
         recorded->tokensHash != hash || recorded->logProbs.size() != chunkFloats * chunks))
        throw Error(
            "perplexity: the recorded reference is of another text, context or model; "
            "record it again with these settings");
    if (options.record) {
        const std::uint64_t bytes = chunkFloats * chunks * sizeof(float);
        ensureFitsInMemory(bytes, "the reference's log-probabilities");
        *options.record = PerplexityReference{context, chunks, vocab, hash, {}};
        options.record->logProbs.resize(chunkFloats * chunks);
    }

    const ForwardOptions forwardOptions{options.threads, context, options.cancel, options.resident};
    std::unique_ptr<LlamaRunner> model =
        makeLlamaRunner(options.backend, config, weights, forwardOptions);
    std::unique_ptr<LlamaRunner> reference;
    if (options.reference && !recorded)
        reference = makeLlamaRunner(options.backend, config, *options.reference, forwardOptions);
    const bool hasKl = reference || recorded;

    // The CPU forward pass's own threads score the rows (other threads would compete with them).
    WorkerPool& pool = WorkerPool::shared(options.threads);
    std::vector<std::int32_t> chunk(static_cast<std::size_t>(context));
    std::vector<float> logits, referenceLogits, logQ, liveLogP;
    logQ.resize(chunkFloats);
    if (reference) liveLogP.resize(chunkFloats);
    std::vector<double> nll(static_cast<std::size_t>(scoredPerChunk)), kl(nll.size());
    std::vector<char> same(nll.size());
    Totals totals;
    for (int c = 0; c < chunks; ++c) {
        const auto begin = tokens.begin() + static_cast<std::ptrdiff_t>(c) * context;
        std::copy(begin, begin + context, chunk.begin());
        chunk[0] = options.bos;
        model->reset();
        model->forward(chunk, first, context - 1, logits);
        if (reference) {
            reference->reset();
            reference->forward(chunk, first, context - 1, referenceLogits);
        }
        float* logQChunk = options.record
                               ? options.record->logProbs.data() + chunkFloats * std::size_t(c)
                               : logQ.data();
        const float* recordedChunk =
            recorded ? recorded->logProbs.data() + chunkFloats * std::size_t(c) : nullptr;
        pool.run(scoredPerChunk, [&](long long r0, long long r1, int) {
            for (long long r = r0; r < r1; ++r) {
                const std::size_t i = static_cast<std::size_t>(r);
                float* q = logQChunk + i * rowFloats;
                logSoftmax(logits.data() + i * rowFloats, vocab, q);
                nll[i] = -static_cast<double>(q[chunk[static_cast<std::size_t>(first + r + 1)]]);
                if (!hasKl) continue;
                const float* p = nullptr;
                if (recorded) {
                    p = recordedChunk + i * rowFloats;
                } else {
                    float* live = liveLogP.data() + i * rowFloats;
                    logSoftmax(referenceLogits.data() + i * rowFloats, vocab, live);
                    p = live;
                }
                kl[i] = klDivergence(p, q, vocab);
                same[i] = argmax(p, vocab) == argmax(q, vocab);
            }
        });
        for (std::size_t i = 0; i < nll.size(); ++i) {  // in order: the sums are deterministic
            totals.nll += nll[i];
            totals.nll2 += nll[i] * nll[i];
            if (hasKl) {
                totals.kl += kl[i];
                totals.kl2 += kl[i] * kl[i];
                totals.sameTop += same[i];
            }
        }
        totals.scored += scoredPerChunk;
        if (options.onChunk) options.onChunk(statsOf(totals, c + 1, chunks, hasKl));
    }

    PerplexityResult result;
    result.stats = statsOf(totals, chunks, chunks, hasKl);
    result.seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const double run = static_cast<double>(chunks) * context * (reference ? 2 : 1);
    result.tokensPerSecond = result.seconds > 0 ? run / result.seconds : 0.0;
    return result;
}

}  // namespace cwb
