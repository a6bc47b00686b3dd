// One language-model measurement (see llm_measure_job.h).
#include "ui/worker/llm_measure_job.h"

#include <algorithm>
#include <chrono>

#include "core/error.h"
#include "core/llm/llm_speed.h"
#include "ui/llm/llm_session.h"

namespace cwb::ui {

std::shared_ptr<const PerplexityReference> LlmEvalContext::reference() const {
    std::lock_guard lock(recorded->mutex);
    return recorded->reference;
}

QString describeCompression(const LlmCompression& c) {
    WorkbenchSettings settings;
    settings.plan.defaults = c.settings;
    if (c.format) {
        settings.llm.format = dtypeName(*c.format);
        settings.llm.scope = c.scope;
    }
    return describeLlmCompression(settings);
}

bool sameCompression(const LlmCompression& a, const LlmCompression& b) {
    return a.settings == b.settings && a.format == b.format && (!a.format || a.scope == b.scope);
}

bool changesNothing(const LlmCompression& c) {
    return !c.format && !c.settings.quant.enabled() && !c.settings.prune.enabled();
}

double storedBytes(const LlamaWeights& w) {
    double bytes = double(w.embedding.byteSize()) + double(w.finalNorm.byteSize());
    if (w.output.bytes() != w.embedding.bytes()) bytes += double(w.output.byteSize());
    for (const LlamaBlockWeights& b : w.blocks)
        for (const Tensor* t :
             {&b.attnNorm, &b.q, &b.k, &b.v, &b.o, &b.ffnNorm, &b.gate, &b.up, &b.down})
            bytes += double(t->byteSize());
    return bytes;
}

double compressedBytes(const LlamaWeights& original, const LlmCompressionResult& result) {
    double bytes = storedBytes(original);
    for (const LlmTensorReport& t : result.tensors) {
        const auto n = static_cast<std::uint64_t>(shapeElements(t.shape));
        bytes += t.bitsPerWeight * double(n) / 8.0 - double(dtypeStorageBytes(t.original, n));
    }
    return bytes;
}

namespace {

double bitsOfStored(const LlamaWeights& w) {
    std::int64_t elements = w.embedding.elements() + w.finalNorm.elements();
    if (w.output.bytes() != w.embedding.bytes()) elements += w.output.elements();
    for (const LlamaBlockWeights& b : w.blocks)
        for (const Tensor* t :
             {&b.attnNorm, &b.q, &b.k, &b.v, &b.o, &b.ffnNorm, &b.gate, &b.up, &b.down})
            elements += t->elements();
    return elements ? 8.0 * storedBytes(w) / double(elements) : 0.0;
}

// The Progress callback of a lane both reports and says "stale"; perplexity and speed
// take a plain cancel function, so this reports (done, total) as it asks.
struct CancelProbe {
    const Progress& progress;
    long long done = 0, total = 1;
    bool operator()() const { return progress.callback && !progress.callback(done, total); }
};

}  // namespace

LlmPoint measureLlmPoint(const LlmEvalContext& eval, const LlmCompression& compression,
                         const LlmMeasureOptions& options, const Progress& progress,
                         const std::function<void(const LlmPoint&)>& onPartial,
                         std::shared_ptr<const LlamaWeights>* compressedOut) {
    const auto start = std::chrono::steady_clock::now();
    const LlamaCheckpoint& checkpoint = *eval.checkpoint;
    LlmPoint point;
    point.compression = compression;
    point.original = changesNothing(compression);

    // The original shares the checkpoint's tensors (views), so this copy is cheap.
    auto measured = std::make_shared<LlamaWeights>(checkpoint.weights);
    const LlamaWeights* weights = measured.get();
    if (point.original) {
        point.bitsPerWeight = bitsOfStored(checkpoint.weights);
        point.sizeBytes = storedBytes(checkpoint.weights);
    } else {
        LlmCompressOptions compressOptions;
        compressOptions.threads = eval.threads;
        compressOptions.stats.histograms = false;  // the histograms are the browser's
        compressOptions.backend = eval.backend;
        LlmCompressionResult result = compressLlama(checkpoint.config, checkpoint.weights,
                                                    compression, compressOptions, progress);
        point.bitsPerWeight = result.bitsPerWeight;
        point.sizeBytes = compressedBytes(checkpoint.weights, result);
        *measured = std::move(result.weights);
    }

    CancelProbe probe{progress};
    PerplexityOptions ppl;
    ppl.context = eval.context;
    ppl.threads = eval.threads;
    ppl.maxChunks = eval.maxChunks;
    ppl.bos = eval.tokenizer->bos() >= 0 ? eval.tokenizer->bos() : 1;
    ppl.cancel = std::cref(probe);
    const std::shared_ptr<const PerplexityReference> recorded = eval.reference();
    PerplexityReference recording;
    if (point.original) {
        const long long whole = static_cast<long long>(eval.tokens.size()) / eval.context;
        const long long chunks =
            eval.maxChunks > 0 ? std::min<long long>(whole, eval.maxChunks) : whole;
        const double bytes = double(chunks) * (eval.context / 2 - 1) *
                             double(checkpoint.config.vocabSize) * sizeof(float);
        if (!recorded && bytes <= double(eval.recordBudgetBytes)) ppl.record = &recording;
    } else if (recorded) {
        ppl.recorded = recorded.get();
    } else {
        ppl.reference = &checkpoint.weights;
    }
    ppl.onChunk = [&](const PerplexityStats& s) {
        probe.done = s.chunks;
        probe.total = s.totalChunks;
        point.stats = s;
        if (onPartial && s.chunks < s.totalChunks) onPartial(point);
    };
    Backend* device = eval.backend;
    point.stats = onDevice(device, point.deviceNote, [&](Backend* b) {
                      if (!b) device = nullptr;  // what follows runs where this ran
                      ppl.backend = b;
                      return measurePerplexity(checkpoint.config, *weights, eval.tokens, ppl);
                  }).stats;
    if (ppl.record) {
        std::lock_guard lock(eval.recorded->mutex);
        eval.recorded->reference =
            std::make_shared<const PerplexityReference>(std::move(recording));
    }

    if (options.speed) {
        SpeedOptions speed;
        speed.threads = eval.threads;
        speed.repetitions = options.speedRepetitions;
        speed.measureBandwidth = false;  // 256 MB read each time: seconds of a sweep for nothing
        speed.promptTokens = options.speedPrompt;
        speed.generateTokens = options.speedGenerate;
        const int room = checkpoint.config.maxSequence;
        if (room > 0 && speed.promptTokens + speed.generateTokens > room) {
            speed.promptTokens = std::max(0, room / 2);
            speed.generateTokens = std::max(0, room - speed.promptTokens);
        }
        speed.cancel = std::cref(probe);
        const SpeedResult s = onDevice(device, point.deviceNote, [&](Backend* b) {
            speed.backend = b;
            return measureSpeed(checkpoint.config, *weights, speed);
        });
        point.prefillTokensPerSecond = s.prefillTokensPerSecond;
        point.generateTokensPerSecond = s.generateTokensPerSecond;
    }
    if (compressedOut) *compressedOut = std::move(measured);
    point.final = true;
    point.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return point;
}

}  // namespace cwb::ui
