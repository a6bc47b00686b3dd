// Teacher logits through the inference engine (see teacher_logits.h).
#include "core/train/teacher_logits.h"

#include <algorithm>

#include "core/error.h"

namespace cwb::train {

std::vector<float> computeLogits(InferenceEngine& engine, const Dataset& data,
                                 const Progress& progress, int limit, int batchSize) {
    if (engine.inputSize() != data.pixelsPerImage())
        throw Error("the teacher takes " + std::to_string(engine.inputSize()) +
                    " inputs per sample but " + data.name + " has " + std::to_string(data.rows) +
                    "x" + std::to_string(data.cols) + " images");
    const int n = limit > 0 ? std::min(limit, data.size()) : data.size();
    const int outputs = engine.outputSize();
    std::vector<float> logits(static_cast<std::size_t>(n) * outputs);
    for (int start = 0; start < n; start += batchSize) {
        const int count = std::min(batchSize, n - start);
        engine.forward(data.image(start), count,
                       logits.data() + static_cast<std::size_t>(start) * outputs);
        progress.step(start + count, n);
    }
    return logits;
}

std::vector<float> teacherLogits(const Model& teacher, const Dataset& data, int threads,
                                 const Progress& progress, int limit) {
    if (!teacher.evaluable)
        throw Error(teacher.sourcePath + ": cannot be a teacher: " +
                    (teacher.notEvaluableReason.empty() ? "it has no architecture"
                                                        : teacher.notEvaluableReason));
    if (shapeElements(teacher.outputShape()) != data.classes)
        throw Error(teacher.sourcePath + ": the teacher has " +
                    std::to_string(shapeElements(teacher.outputShape())) + " outputs but " +
                    data.name + " has " + std::to_string(data.classes) + " classes");
    EngineOptions options;
    options.threads = threads;
    options.logits = true;
    const auto engine = makeCpuEngine(teacher, options);
    try {
        return computeLogits(*engine, data, progress, limit);
    } catch (const Cancelled&) {
        throw;
    } catch (const Error& e) {
        throw Error(teacher.sourcePath + ": " + e.what());
    }
}

}  // namespace cwb::train
