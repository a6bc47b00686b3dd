// Compress, build the engine, evaluate (see measurer.h).
#include "core/measure/measurer.h"

#include <algorithm>

#include "core/error.h"
#include "core/infer/engine.h"
#include "core/infer/evaluate.h"

namespace cwb {

Progress cancelOnly(const Progress& progress, long long done, long long total) {
    Progress out;
    if (progress.callback)
        out.callback = [callback = progress.callback, done, total](long long, long long) {
            return callback(done, total);
        };
    return out;
}

Measurer::Measurer(std::shared_ptr<const Model> model, std::shared_ptr<const Dataset> data,
                   MeasurerOptions options)
    : m_model(std::move(model)), m_data(std::move(data)), m_options(std::move(options)) {
    if (!m_model || !m_data) throw Error("a measurement needs a model and a data set");
    if (m_options.batchSize < 1) m_options.batchSize = 1;
    if (m_options.chunk < m_options.batchSize) m_options.chunk = m_options.batchSize;
    m_options.stats.histograms = false;
}

int Measurer::samplesFor(int limit) const {
    return limit > 0 ? std::min(limit, m_data->size()) : m_data->size();
}

void Measurer::warmUp() const {
    std::call_once(m_warm, [this] {
        CompressedEngineOptions options;  // the float32 engine of the backend
        options.engine.threads = m_options.threads;
        options.kernel = KernelChoice::Float;
        options.backend = m_options.backend;
        const auto engine = makeCompressedEngine(*m_model, options);
        // A model that does not fit the data is refused by evaluate(), with the reason.
        if (engine->inputSize() != m_data->pixelsPerImage() || m_data->size() == 0) return;
        const int n = std::min(m_options.batchSize, m_data->size());
        std::vector<float> out(static_cast<std::size_t>(n) * engine->outputSize());
        engine->forward(m_data->image(0), n, out.data());
    });
}

Accuracy Measurer::accuracy(const Model& model, const EngineChoice& choice, int limit,
                            const Progress& progress,
                            const std::function<void(const Accuracy&)>& onChunk) const {
    warmUp();
    Accuracy result;
    result.total = samplesFor(limit);
    // Without grids, or asked for float32, the backend's float32 engine.
    const bool compressedKernels = choice.kernels != KernelChoice::Float && choice.grids;
    CompressedEngineOptions engineOptions;
    engineOptions.engine.threads = m_options.threads;
    engineOptions.kernel = compressedKernels ? choice.kernels : KernelChoice::Float;
    engineOptions.grids = choice.grids;
    engineOptions.backend = m_options.backend;
    KernelReport report;
    const std::unique_ptr<InferenceEngine> engine =
        makeCompressedEngine(model, engineOptions, compressedKernels ? &report : nullptr);
    if (compressedKernels) result.kernels = std::move(report.layers);
    result.engine = engine->name();
    for (int first = 0; first < result.total; first += m_options.chunk) {
        EvalOptions options;
        options.first = first;
        options.limit = std::min(m_options.chunk, result.total - first);
        options.batchSize = m_options.batchSize;
        const int total = result.total;
        options.progress.callback = [&progress, first, total](long long done, long long) {
            return !progress.callback || progress.callback(first + done, total);
        };
        const EvalResult r = evaluate(*engine, *m_data, options);
        result.samples += r.samples;
        result.correct += r.correct;
        result.seconds += r.seconds;
        if (onChunk) onChunk(result);
    }
    return result;
}

CompressionResult Measurer::compress(const CompressionPlan& plan, const Progress& progress,
                                     bool exactLevels) const {
    CompressOptions options;
    options.stats = m_options.stats;
    options.stats.exactLevels = exactLevels;
    options.threads = m_options.threads;
    options.profile = m_options.profile;
    options.backend = m_options.backend;
    return compressModel(*m_model, plan, options, progress);
}

Measurement Measurer::measure(const CompressionPlan& plan, KernelChoice kernels, int limit,
                              const Progress& progress, bool exactLevels) const {
    CompressionResult compressed =
        compress(plan, cancelOnly(progress, 0, samplesFor(limit)), exactLevels);
    Measurement m;
    m.plan = plan;
    m.accuracy = accuracy(compressed.model, {kernels, &compressed.grids}, limit, progress);
    m.layers = std::move(compressed.layers);
    m.total = std::move(compressed.total);
    return m;
}

}  // namespace cwb
