// Accuracy of an engine on a data set (see evaluate.h).
#include "core/infer/evaluate.h"

#include <algorithm>
#include <chrono>

#include "core/error.h"

namespace cwb {

EvalResult evaluate(InferenceEngine& engine, const Dataset& data, const EvalOptions& options) {
    if (options.batchSize <= 0)
        throw Error("batch size " + std::to_string(options.batchSize) +
                    " is not positive; use a batch of 1 or more");
    if (engine.inputSize() != data.pixelsPerImage())
        throw Error("the model takes " + std::to_string(engine.inputSize()) +
                    " values per sample but " + data.name + " images have " +
                    std::to_string(data.pixelsPerImage()) + "; choose a model for " +
                    std::to_string(data.rows) + "x" + std::to_string(data.cols) + " images");
    if (engine.outputSize() != data.classes)
        throw Error("the model has " + std::to_string(engine.outputSize()) + " outputs but " +
                    data.name + " has " + std::to_string(data.classes) + " classes; choose a " +
                    std::to_string(data.classes) + "-class classifier");

    const int first = std::clamp(options.first, 0, data.size());
    const int available = data.size() - first;
    const int total = options.limit > 0 ? std::min(options.limit, available) : available;
    const int classes = engine.outputSize();
    EvalResult result;
    result.samples = total;
    result.predictions.resize(static_cast<std::size_t>(total));
    std::vector<float> outputs(
        static_cast<std::size_t>(std::min(options.batchSize, std::max(total, 1))) * classes);
    using Clock = std::chrono::steady_clock;
    Clock::duration busy{};
    for (int begin = 0; begin < total; begin += options.batchSize) {
        const int n = std::min(options.batchSize, total - begin);
        const auto start = Clock::now();
        engine.forward(data.image(first + begin), n, outputs.data());
        busy += Clock::now() - start;
        for (int i = 0; i < n; ++i) {
            const float* row = outputs.data() + static_cast<std::size_t>(i) * classes;
            const int predicted = static_cast<int>(std::max_element(row, row + classes) -
                                                   row);  // first maximum, as argmax
            result.predictions[static_cast<std::size_t>(begin + i)] = predicted;
            if (predicted == data.labels[static_cast<std::size_t>(first + begin + i)])
                ++result.correct;
        }
        options.progress.step(begin + n, total);
    }
    result.seconds = std::chrono::duration<double>(busy).count();
    result.accuracy = total > 0 ? static_cast<double>(result.correct) / total : 0.0;
    return result;
}

}  // namespace cwb
