// The measurements of one compressed language model, as the worker lanes run them: its
// perplexity over the evaluation text (progressive, with the KL divergence and same-top-token
// rate against the original), its size, and its prefill and generation speed on the kernels
// of the dtypes it is stored in. Plain functions over plain data, so a lane, a sweep and a
// test call the same code.
#pragma once

#include <QMetaType>
#include <QObject>
#include <QString>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

#include "core/backend/backend.h"
#include "core/error.h"
#include "core/llm/llm_compress.h"
#include "core/llm/perplexity.h"
#include "core/llm/tokenizer.h"

namespace cwb::ui {

// What every measurement of one model over one text shares. Immutable once made; a new
// model or a new text makes a new one.
struct LlmEvalContext {
    std::shared_ptr<const LlamaCheckpoint> checkpoint;
    std::shared_ptr<const Tokenizer> tokenizer;
    QString textPath;  // empty: the bundled text
    std::vector<std::int32_t> tokens;
    int context = 256;
    int maxChunks = 0;  // 0: every whole chunk
    int threads = 0;    // 0: all cores
    // Where the forward passes run (the window's Device choice); null: the CPU.
    Backend* backend = nullptr;
    // The original's log-probabilities, recorded by the baseline run when they fit the
    // budget; later runs compare against them instead of running the original again.
    struct Recorded {
        std::mutex mutex;
        std::shared_ptr<const PerplexityReference> reference;
    };
    std::shared_ptr<Recorded> recorded = std::make_shared<Recorded>();
    std::size_t recordBudgetBytes = std::size_t(512) << 20;

    std::shared_ptr<const PerplexityReference> reference() const;
};

// One evaluated compression: a row of the sweep CSV, a dot on the Pareto plot.
struct LlmPoint {
    LlmCompression compression;
    bool original = false;     // the model as stored (the baseline)
    double bitsPerWeight = 0;  // of the compressed tensors (as stored, for the original)
    double sizeBytes = 0;      // the whole model: compressed tensors as encoded, the rest stored
    PerplexityStats stats;     // running while !final
    bool final = false;
    double prefillTokensPerSecond = 0, generateTokensPerSecond = 0;  // 0: not measured
    bool fromSweep = false;
    double seconds = 0;  // compression, perplexity and speed together
    // One line where the chosen device could not run the model and the CPU measured it.
    QString deviceNote;
};

// describeLlmCompression's words for a compression of a sweep or the history: "as stored",
// "α 0.02, ρ 0.01", "Q4_K on the block matrices".
QString describeCompression(const LlmCompression& c);
bool sameCompression(const LlmCompression& a, const LlmCompression& b);
bool changesNothing(const LlmCompression& c);

// The stored bytes of every tensor the forward pass reads (a tied output counted once).
double storedBytes(const LlamaWeights& weights);
// The model's size with `result`'s tensors at their encoded size and the rest as stored.
double compressedBytes(const LlamaWeights& original, const LlmCompressionResult& result);

struct LlmMeasureOptions {
    bool speed = true;       // also prefill and generation tokens/s
    int speedPrompt = 64;    // p of the speed test
    int speedGenerate = 16;  // n of the speed test
    int speedRepetitions = 1;
};

// Runs job(backend) on `backend`; where that device cannot run the model (job throws
// cwb::Error, not Cancelled), runs job(nullptr) on the CPU and sets `note` to one line saying
// so. A null backend or the CPU's runs once.
template <typename Job>
auto onDevice(Backend* backend, QString& note, Job job) -> decltype(job(backend)) {
    if (!backend || backend == &cpuBackend()) return job(nullptr);
    try {
        return job(backend);
    } catch (const Cancelled&) {
        throw;
    } catch (const Error& e) {
        note = QObject::tr("%1 cannot run this model (%2); measured on the CPU")
                   .arg(QString::fromStdString(backend->name()), QString::fromUtf8(e.what()));
        return job(nullptr);
    }
}

// Compresses (unless `compression` changes nothing), then measures on eval.backend. `onPartial`
// gets the running figures after every chunk; `cancel` is checked before every layer and throws
// cwb::Cancelled. A run of the original records the reference when it fits the budget.
// `compressedOut`, when given, receives the weights that were measured.
LlmPoint measureLlmPoint(const LlmEvalContext& eval, const LlmCompression& compression,
                         const LlmMeasureOptions& options, const Progress& progress,
                         const std::function<void(const LlmPoint&)>& onPartial,
                         std::shared_ptr<const LlamaWeights>* compressedOut = nullptr);

}  // namespace cwb::ui

Q_DECLARE_METATYPE(cwb::ui::LlmPoint)
